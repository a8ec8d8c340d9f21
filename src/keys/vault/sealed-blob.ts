import { createHash, timingSafeEqual } from 'node:crypto';
import { WaiaasError } from '../../core/errors.ts';

/**
 * Sealed blob layout (binary):
 *   "WVLT" | format 1 | backend (1 local, 2 aws-kms, 3 aws-kms envelope) | SHA-256 of the context (32) |
 *   backend body
 * The header is authenticated by each backend (GCM additional data locally, the inner digest under
 * KMS), and the context digest lets us say "wrong context" rather than "damaged" when they differ.
 */

/** Who the sealed data belongs to, e.g. `{ walletId, purpose: 'agent-seed' }`. Bound on seal, required on unseal. */
export type VaultContext = Readonly<Record<string, string>>;

export type VaultBackendKind = 'local' | 'aws-kms';
/** How a blob was sealed: the backends, plus KMS envelope sealing for data above KMS's 4 KiB. */
export type SealedBlobKind = VaultBackendKind | 'aws-kms-envelope';

const MAGIC = Buffer.from('WVLT');
const FORMAT = 1;
const BACKEND_BYTE: Record<SealedBlobKind, number> = { local: 1, 'aws-kms': 2, 'aws-kms-envelope': 3 };

/** The kind named in a blob's header, or undefined when it is not a sealed blob. */
export const sealedBlobKind = (blob: Uint8Array): SealedBlobKind | undefined => {
  if (blob.length <= SEALED_HEADER_BYTES || !Buffer.from(blob.subarray(0, MAGIC.length)).equals(MAGIC))
    return undefined;
  const byte = blob[MAGIC.length + 1];
  return (Object.keys(BACKEND_BYTE) as SealedBlobKind[]).find((kind) => BACKEND_BYTE[kind] === byte);
};
export const SEALED_HEADER_BYTES = MAGIC.length + 2 + 32;

export const vaultCorrupt = (reason: string) => new WaiaasError('VAULT_CORRUPT', { details: { reason } });

export const assertVaultContext = (context: VaultContext): void => {
  const entries = Object.entries(context);
  if (
    entries.length === 0 ||
    entries.some(([key, value]) => key === '' || typeof value !== 'string' || value === '')
  ) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'A vault context needs at least one non-empty key and value',
      details: { field: 'context' },
    });
  }
};

export const contextDigest = (context: VaultContext): Buffer => {
  assertVaultContext(context);
  const canonical = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(canonical)).digest();
};

export const sealedHeader = (backend: SealedBlobKind, context: VaultContext): Buffer =>
  Buffer.concat([MAGIC, Buffer.from([FORMAT, BACKEND_BYTE[backend]]), contextDigest(context)]);

/** Checks the header against the caller's context and returns the backend body. */
export const openSealedBlob = (
  blob: Uint8Array,
  backend: SealedBlobKind,
  context: VaultContext,
): { header: Buffer; body: Buffer } => {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length <= SEALED_HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw vaultCorrupt('not a sealed blob');
  }
  if (bytes[MAGIC.length] !== FORMAT) throw vaultCorrupt('unknown format');
  if (bytes[MAGIC.length + 1] !== BACKEND_BYTE[backend])
    throw vaultCorrupt(`not sealed by the ${backend} vault`);
  const expected = contextDigest(context);
  if (!timingSafeEqual(bytes.subarray(MAGIC.length + 2, SEALED_HEADER_BYTES), expected)) {
    throw new WaiaasError('VAULT_CONTEXT_MISMATCH', {
      details: { contextKeys: Object.keys(context).sort() },
    });
  }
  return { header: bytes.subarray(0, SEALED_HEADER_BYTES), body: bytes.subarray(SEALED_HEADER_BYTES) };
};
