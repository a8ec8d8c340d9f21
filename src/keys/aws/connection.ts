import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';

export type AwsCredentials = KMSClientConfig['credentials'];

export interface AwsDeps {
  /** The daemon's own credentials; default: the SDK's credential chain. */
  credentials?: AwsCredentials;
}

/** Where and how to reach AWS. Credentials default to the SDK's chain (env, profile, instance role). */
export interface AwsConnection {
  region: string;
  /** KMS endpoint URL, for tests and VPC endpoints. */
  endpoint?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Attempts per call including the first; the SDK backs off between them. */
  maxAttempts?: number;
}

export const AWS_DEFAULTS = { connectTimeoutMs: 2_000, requestTimeoutMs: 5_000, maxAttempts: 3 } as const;

const transport = (connection: AwsConnection) => ({
  maxAttempts: connection.maxAttempts ?? AWS_DEFAULTS.maxAttempts,
  requestHandler: {
    connectionTimeout: connection.connectTimeoutMs ?? AWS_DEFAULTS.connectTimeoutMs,
    requestTimeout: connection.requestTimeoutMs ?? AWS_DEFAULTS.requestTimeoutMs,
    throwOnRequestTimeout: true,
  },
});

export const createKmsClient = (connection: AwsConnection, credentials?: AwsCredentials): KMSClient =>
  new KMSClient({
    region: connection.region,
    ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    ...transport(connection),
  });

export const createStsClient = (
  connection: AwsConnection,
  stsEndpoint: string | undefined,
  credentials?: AwsCredentials,
): STSClient =>
  new STSClient({
    region: connection.region,
    ...(stsEndpoint === undefined ? {} : { endpoint: stsEndpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    ...transport(connection),
  });
