import { type ErrorCode, WaiaasError } from '../../core/errors.ts';

/** Which of our codes each kind of AWS failure becomes; the owner key and the vault name them apart. */
export interface AwsErrorCodes {
  accessDenied: ErrorCode;
  disabled: ErrorCode;
  notFound: ErrorCode;
  invalidKey: ErrorCode;
  invalidCiphertext: ErrorCode;
  unavailable: ErrorCode;
}

export const OWNER_KEY_AWS_ERRORS: AwsErrorCodes = {
  accessDenied: 'OWNER_KEY_ACCESS_DENIED',
  disabled: 'OWNER_KEY_DISABLED',
  notFound: 'OWNER_KEY_NOT_FOUND',
  invalidKey: 'OWNER_KEY_INVALID',
  invalidCiphertext: 'INTERNAL',
  unavailable: 'OWNER_KEY_UNAVAILABLE',
};

export const VAULT_AWS_ERRORS: AwsErrorCodes = {
  accessDenied: 'VAULT_ACCESS_DENIED',
  disabled: 'VAULT_ACCESS_DENIED',
  notFound: 'CONFIG_INVALID',
  invalidKey: 'CONFIG_INVALID',
  invalidCiphertext: 'VAULT_CORRUPT',
  unavailable: 'VAULT_UNAVAILABLE',
};

const KIND_BY_NAME: Record<string, keyof AwsErrorCodes> = {
  AccessDeniedException: 'accessDenied',
  AccessDenied: 'accessDenied',
  UnrecognizedClientException: 'accessDenied',
  InvalidSignatureException: 'accessDenied',
  IncompleteSignatureException: 'accessDenied',
  ExpiredTokenException: 'accessDenied',
  ExpiredToken: 'accessDenied',
  InvalidClientTokenId: 'accessDenied',
  SignatureDoesNotMatch: 'accessDenied',
  DisabledException: 'disabled',
  KMSInvalidStateException: 'disabled',
  NotFoundException: 'notFound',
  InvalidKeyUsageException: 'invalidKey',
  UnsupportedOperationException: 'invalidKey',
  IncorrectKeyException: 'invalidKey',
  InvalidCiphertextException: 'invalidCiphertext',
  ThrottlingException: 'unavailable',
  Throttling: 'unavailable',
  LimitExceededException: 'unavailable',
  KMSInternalException: 'unavailable',
  DependencyTimeoutException: 'unavailable',
  KeyUnavailableException: 'unavailable',
  ServiceUnavailable: 'unavailable',
  InternalFailure: 'unavailable',
  TimeoutError: 'unavailable',
  RequestTimeout: 'unavailable',
};

interface AwsErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Turns an SDK error into a catalogue error. Only the AWS error name and HTTP status are kept:
 * AWS messages can quote ARNs and principals, which do not belong in our responses.
 */
export const mapAwsError = (error: unknown, codes: AwsErrorCodes, operation: string): WaiaasError => {
  if (error instanceof WaiaasError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  const name = shape.name ?? 'Error';
  const status = shape.$metadata?.httpStatusCode;
  const kind: keyof AwsErrorCodes | undefined =
    KIND_BY_NAME[name] ??
    (status === undefined || status >= 500 || shape.code !== undefined ? 'unavailable' : undefined);
  const details = { operation, awsError: name, ...(status === undefined ? {} : { httpStatus: status }) };
  return new WaiaasError(kind === undefined ? 'INTERNAL' : codes[kind], { details, cause: error });
};
