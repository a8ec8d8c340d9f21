import type { KeyObject } from 'node:crypto';
import type { VaultBackendKind, VaultContext } from './sealed-blob.ts';

/**
 * On Nitro: KMS re-encrypts the result for the RSA public key inside the enclave's attestation
 * document, and only the enclave holds `privateKey`. KMS checks the document (and the key policy
 * its PCRs); this side only decrypts what comes back.
 */
export interface VaultRecipient {
  attestationDocument: Uint8Array;
  privateKey: KeyObject;
}

export interface KeyVault {
  readonly kind: VaultBackendKind;
  seal(plaintext: Uint8Array, context: VaultContext): Promise<Uint8Array>;
  /** Refuses with VAULT_CONTEXT_MISMATCH when `context` differs from the one used to seal. */
  unseal(blob: Uint8Array, context: VaultContext, recipient?: VaultRecipient): Promise<Uint8Array>;
  close(): Promise<void>;
}
