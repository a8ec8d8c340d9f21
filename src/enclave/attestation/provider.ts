/** What the enclave binds into one attestation document. Each field is at most 1024 bytes. */
export interface AttestationRequest {
  /** A verifier's fresh challenge. */
  readonly nonce?: Uint8Array;
  /** Application data, e.g. a hash over the agent public keys and the policy hashes. */
  readonly userData?: Uint8Array;
  readonly publicKey?: Uint8Array;
}

export interface AttestationProvider {
  readonly kind: 'nitro' | 'dev';
  /** An untagged COSE_Sign1 (ES384) attestation document in the Nitro format. */
  attest(request?: AttestationRequest): Promise<Uint8Array>;
}

export const ATTESTATION_FIELD_MAX_BYTES = 1024;
