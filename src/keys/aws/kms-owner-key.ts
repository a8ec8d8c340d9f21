import {
  CreateKeyCommand,
  GetKeyPolicyCommand,
  GetPublicKeyCommand,
  type GetPublicKeyCommandOutput,
  type KMSClient,
  PutKeyPolicyCommand,
  SignCommand,
} from '@aws-sdk/client-kms';
import { type Address, addressFromBytes, addressToBytes } from '../../core/address.ts';
import { WaiaasError } from '../../core/errors.ts';
import { publicKeyFromSpki } from '../ed25519.ts';
import {
  type OwnerKeyBackend,
  type OwnerKeyOptions,
  ownerKeyFromBackend,
  releasedSessionError,
} from '../owner-key.ts';
import type { OwnerKey } from '../types.ts';
import { mapAwsError, OWNER_KEY_AWS_ERRORS } from './aws-errors.ts';
import { type AwsConnection, type AwsDeps, createKmsClient, createStsClient } from './connection.ts';
import { accountOfKeyArn, keyPolicyRequiresMfaForSign, ownerKeyPolicy } from './key-policies.ts';
import { openMfaSession } from './mfa-session.ts';

export const KMS_OWNER_KEY_SPEC = 'ECC_NIST_EDWARDS25519';
export const KMS_SIGNING_ALGORITHM = 'ED25519_SHA_512';
/** KMS refuses RAW messages above this size. */
export const KMS_MAX_RAW_MESSAGE_BYTES = 4096;

export interface AwsKmsOwnerKeyConfig extends AwsConnection {
  kind: 'aws-kms';
  keyId: string;
  /** ARN of the owner's MFA device; when set, signing needs an MFA code (STS session credentials). */
  mfaSerial?: string;
  /** STS endpoint URL, for tests and VPC endpoints. */
  stsEndpoint?: string;
  /** The owner's public key as recorded at creation; signatures are verified against it. */
  publicKey?: Address;
  /**
   * The key policy, as read when the owner was created, denies kms:Sign without MFA whatever IAM
   * allows (key-policies.ts). Only then does health count the owner as protected by MFA.
   */
  keyPolicyRequiresMfa?: boolean;
}

const MFA_CODE = /^\d{6}$/;
// STS GetSessionToken accepts 900 s to 36 h.
const STS_MIN_SECONDS = 900;
const EXPIRY_MARGIN_MS = 30_000;

const assertSignable = (message: Uint8Array) => {
  if (message.length > KMS_MAX_RAW_MESSAGE_BYTES) {
    throw new WaiaasError('MESSAGE_TOO_LARGE', {
      details: { bytes: message.length, max: KMS_MAX_RAW_MESSAGE_BYTES },
    });
  }
  if (message.length === 0)
    throw new WaiaasError('VALIDATION_FAILED', { message: 'Cannot sign an empty message' });
};

const kmsSign = async (client: KMSClient, keyId: string, message: Uint8Array): Promise<Uint8Array> => {
  assertSignable(message);
  try {
    const { Signature } = await client.send(
      new SignCommand({
        KeyId: keyId,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: KMS_SIGNING_ALGORITHM,
      }),
    );
    return Signature ?? new Uint8Array();
  } catch (error) {
    throw mapAwsError(error, OWNER_KEY_AWS_ERRORS, 'Sign');
  }
};

/** GetPublicKey, refusing anything but an Ed25519 signing key. */
export const fetchKmsEd25519PublicKey = async (client: KMSClient, keyId: string): Promise<Uint8Array> => {
  let response: GetPublicKeyCommandOutput;
  try {
    response = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  } catch (error) {
    throw mapAwsError(error, OWNER_KEY_AWS_ERRORS, 'GetPublicKey');
  }
  const publicKey = response.PublicKey === undefined ? undefined : publicKeyFromSpki(response.PublicKey);
  const signs =
    response.SigningAlgorithms === undefined || response.SigningAlgorithms.includes(KMS_SIGNING_ALGORITHM);
  if (
    response.KeySpec !== KMS_OWNER_KEY_SPEC ||
    response.KeyUsage !== 'SIGN_VERIFY' ||
    !signs ||
    publicKey === undefined
  ) {
    throw new WaiaasError('OWNER_KEY_INVALID', {
      details: { keySpec: response.KeySpec ?? null, keyUsage: response.KeyUsage ?? null },
    });
  }
  return publicKey;
};

export const awsKmsOwnerKeyBackend = (config: AwsKmsOwnerKeyConfig, deps: AwsDeps = {}): OwnerKeyBackend => {
  const base = createKmsClient(config, deps.credentials);
  const mfaSerial = config.mfaSerial;
  const sts =
    mfaSerial === undefined ? undefined : createStsClient(config, config.stsEndpoint, deps.credentials);

  return {
    kind: 'aws-kms',
    secondFactor: mfaSerial === undefined ? 'none' : 'mfa',
    async publicKey() {
      if (config.publicKey !== undefined) return addressToBytes(config.publicKey);
      return fetchKmsEd25519PublicKey(base, config.keyId);
    },
    async openSession(code, windowSeconds) {
      if (sts === undefined || mfaSerial === undefined) {
        let released = false;
        return {
          sign: (message) =>
            released ? Promise.reject(releasedSessionError()) : kmsSign(base, config.keyId, message),
          release: () => {
            released = true;
          },
        };
      }
      if (code === undefined || !MFA_CODE.test(code)) {
        throw new WaiaasError('OWNER_UNLOCK_INVALID', { message: 'An MFA code is six digits' });
      }
      const credentials = await openMfaSession(
        sts,
        mfaSerial,
        code,
        Math.max(STS_MIN_SECONDS, windowSeconds ?? 0),
      );
      let client: KMSClient | undefined = createKmsClient(config, credentials);
      return {
        expiresAt: credentials.expiration.getTime() - EXPIRY_MARGIN_MS,
        sign: (message) =>
          client === undefined
            ? Promise.reject(releasedSessionError())
            : kmsSign(client, config.keyId, message),
        release() {
          client?.destroy();
          client = undefined;
        },
      };
    },
    async close() {
      base.destroy();
      sts?.destroy();
    },
  };
};

export const createAwsKmsOwnerKey = (
  config: AwsKmsOwnerKeyConfig,
  deps: AwsDeps = {},
  options: OwnerKeyOptions = {},
): OwnerKey => {
  const backend = awsKmsOwnerKeyBackend(config, deps);
  const key = ownerKeyFromBackend(backend, options);
  // Refuse oversized messages before spending an MFA code on them.
  return {
    ...key,
    async sign(message, unlock) {
      assertSignable(message);
      return key.sign(message, unlock);
    },
  };
};

export interface AwsKmsOwnerKeySpec extends AwsConnection {
  /** An existing key; without it a new ECC_NIST_EDWARDS25519 SIGN_VERIFY key is created. */
  keyId?: string;
  mfaSerial?: string;
  stsEndpoint?: string;
}

/** Reads the key policy; undefined when the caller may not (then nothing is known of it). */
const readKeyPolicy = async (client: KMSClient, keyId: string): Promise<string | undefined> => {
  try {
    return (await client.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy;
  } catch {
    return undefined;
  }
};

/**
 * `waiaas owner create --signer aws-kms`: creates the KMS key if needed and checks it is Ed25519.
 * A key created here for an owner with an MFA device gets the owner key policy at once
 * (key-policies.ts: Sign only with aws:MultiFactorAuthPresent); an existing key keeps its policy,
 * which is read and recorded for what it says.
 */
export const provisionAwsKmsOwnerKey = async (
  spec: AwsKmsOwnerKeySpec,
  deps: AwsDeps = {},
): Promise<{ config: AwsKmsOwnerKeyConfig; publicKey: Address; created: boolean }> => {
  const client = createKmsClient(spec, deps.credentials);
  try {
    let keyId = spec.keyId;
    if (keyId === undefined) {
      try {
        const { KeyMetadata } = await client.send(
          new CreateKeyCommand({
            KeySpec: KMS_OWNER_KEY_SPEC,
            KeyUsage: 'SIGN_VERIFY',
            Description: 'WAIaaS owner key',
          }),
        );
        keyId = KeyMetadata?.Arn ?? KeyMetadata?.KeyId;
        if (keyId !== undefined && spec.mfaSerial !== undefined) {
          const accountId = KeyMetadata?.AWSAccountId ?? accountOfKeyArn(keyId);
          if (accountId === undefined)
            throw new WaiaasError('OWNER_KEY_UNAVAILABLE', { details: { operation: 'CreateKey' } });
          await client.send(
            new PutKeyPolicyCommand({
              KeyId: keyId,
              PolicyName: 'default',
              Policy: JSON.stringify(ownerKeyPolicy({ accountId })),
            }),
          );
        }
      } catch (error) {
        throw mapAwsError(error, OWNER_KEY_AWS_ERRORS, 'CreateKey');
      }
      if (keyId === undefined)
        throw new WaiaasError('OWNER_KEY_UNAVAILABLE', { details: { operation: 'CreateKey' } });
    }
    const publicKey = addressFromBytes(await fetchKmsEd25519PublicKey(client, keyId));
    const policy = spec.mfaSerial === undefined ? undefined : await readKeyPolicy(client, keyId);
    const { keyId: _ignored, ...rest } = spec;
    return {
      config: {
        ...rest,
        kind: 'aws-kms',
        keyId,
        publicKey,
        keyPolicyRequiresMfa: policy !== undefined && keyPolicyRequiresMfaForSign(policy),
      },
      publicKey,
      created: spec.keyId === undefined,
    };
  } finally {
    client.destroy();
  }
};
