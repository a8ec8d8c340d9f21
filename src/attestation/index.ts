export { ATTESTATION_LIMITS } from './attestation-document.ts';
export type { CertificateSummary } from './certificate-chain.ts';
export type { AttestationFailureReason } from './failure.ts';
export { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './nitro-root.ts';
export {
  MAX_ATTESTATION_DOCUMENT_BYTES,
  type PcrAllowlist,
  type VerifiedAttestation,
  type VerifyAttestationOptions,
  verifyAttestation,
} from './verify-attestation.ts';
