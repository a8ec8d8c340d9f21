import type { KeyVault, VaultRecipient } from './types.ts';

/**
 * A KMS vault whose every unseal names the enclave as `Recipient`: KMS checks the attestation
 * document (and, by the key policy, the image measurement in it) and answers with the plaintext
 * encrypted to the RSA key inside the document, which only the enclave holds. Sealing needs no
 * attestation (KMS Encrypt).
 */
export const vaultWithRecipient = (vault: KeyVault, recipient: () => Promise<VaultRecipient>): KeyVault => ({
  kind: vault.kind,
  seal: (plaintext, context) => vault.seal(plaintext, context),
  unseal: async (blob, context) => vault.unseal(blob, context, await recipient()),
  close: () => vault.close(),
});
