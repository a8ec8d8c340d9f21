import { GetSessionTokenCommand, type STSClient } from '@aws-sdk/client-sts';
import { WaiaasError } from '../../core/errors.ts';
import { mapAwsError, OWNER_KEY_AWS_ERRORS } from './aws-errors.ts';

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * Exchanges an MFA code for short-lived STS credentials. The key policy lets only MFA sessions sign
 * (`aws:MultiFactorAuthPresent`), so the daemon's own credentials cannot sign without the owner.
 */
export const openMfaSession = async (
  sts: STSClient,
  serialNumber: string,
  code: string,
  durationSeconds: number,
): Promise<SessionCredentials> => {
  let credentials: Partial<SessionCredentials> | undefined;
  try {
    const response = await sts.send(
      new GetSessionTokenCommand({
        SerialNumber: serialNumber,
        TokenCode: code,
        DurationSeconds: durationSeconds,
      }),
    );
    const found = response.Credentials;
    credentials = found && {
      accessKeyId: found.AccessKeyId,
      secretAccessKey: found.SecretAccessKey,
      sessionToken: found.SessionToken,
      expiration: found.Expiration,
    };
  } catch (error) {
    const name = (error as { name?: string }).name;
    // STS answers a wrong or reused code with AccessDenied.
    if (name === 'AccessDenied' || name === 'AccessDeniedException') {
      throw new WaiaasError('OWNER_UNLOCK_INVALID', { message: 'The MFA code was refused', cause: error });
    }
    throw mapAwsError(error, OWNER_KEY_AWS_ERRORS, 'GetSessionToken');
  }
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = credentials ?? {};
  if (!accessKeyId || !secretAccessKey || !sessionToken || !(expiration instanceof Date)) {
    throw new WaiaasError('OWNER_KEY_UNAVAILABLE', {
      details: { operation: 'GetSessionToken', reason: 'no credentials' },
    });
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration };
};
