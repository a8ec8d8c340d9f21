// Owner key: signers, keystore, second factor. The key vault is exported apart (./vault/index.ts) so
// the enclave can import it without the owner-side code.
// Types only from ./aws: its modules load the AWS SDK, which owner-signer.ts loads when first needed.
export type { AwsConnection, AwsCredentials, AwsDeps } from './aws/connection.ts';
export type { AwsKmsOwnerKeyConfig, AwsKmsOwnerKeySpec } from './aws/kms-owner-key.ts';
export { DEFAULT_KDF, type KdfParams } from './kdf.ts';
export { type KeystoreFileV1, type KeystoreWriteOptions, MIN_PASSPHRASE_LENGTH } from './keystore.ts';
export { changeKeystorePassphrase } from './keystore-file.ts';
export { type LocalOwnerKeyConfig, provisionLocalOwnerKey } from './local-owner-key.ts';
export { MAX_UNLOCK_SECONDS } from './owner-key.ts';
export {
  createOwnerSigner,
  describeOwnerKey,
  type OwnerKeyDescription,
  type OwnerKeySpec,
  type OwnerSignerConfig,
  type OwnerSignerDeps,
  provisionOwnerKey,
} from './owner-signer.ts';
export {
  emptySignatureSlots,
  requiredSigners,
  signTransactionMessage,
  signWeb3Transaction,
  signWireTransaction,
} from './sign-transaction.ts';
export { withSignatureCheck } from './signature-check.ts';
export type { OwnerKey, OwnerKeyProtection, OwnerSigner, OwnerSignerKind, OwnerUnlock } from './types.ts';
