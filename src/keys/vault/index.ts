export {
  type AwsKmsVault,
  type AwsKmsVaultConfig,
  createAwsKmsVault,
  MAX_SEALED_PLAINTEXT_BYTES,
  provisionAwsKmsVault,
} from './kms-vault.ts';
export {
  type LocalVaultConfig,
  localVaultWithKey,
  openLocalVault,
  openLocalVaultKeyFile,
  provisionLocalVault,
} from './local-vault.ts';
export { decryptCiphertextForRecipient } from './recipient-cms.ts';
export type { VaultContext } from './sealed-blob.ts';
export type { KeyVault, VaultRecipient } from './types.ts';
