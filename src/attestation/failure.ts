import { WaiaasError } from '../core/errors.ts';

/** Stable reason codes carried in `details.reason` of every `ATTESTATION_INVALID` error. */
export type AttestationFailureReason =
  | 'DOCUMENT_TOO_LARGE'
  | 'BAD_COSE'
  | 'UNSUPPORTED_ALG'
  | 'MALFORMED_PAYLOAD'
  | 'UNSUPPORTED_DIGEST'
  | 'BAD_CERTIFICATE'
  | 'BAD_SIGNATURE'
  | 'ROOT_MISMATCH'
  | 'CHAIN_UNTRUSTED'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'DEBUG_MODE'
  | 'PCR_NOT_ALLOWED'
  | 'NONCE_MISMATCH';

export const attestationInvalid = (
  reason: AttestationFailureReason,
  explanation: string,
  details: Record<string, unknown> = {},
): WaiaasError =>
  new WaiaasError('ATTESTATION_INVALID', {
    message: `Attestation document did not verify: ${explanation}`,
    details: { reason, ...details },
  });
