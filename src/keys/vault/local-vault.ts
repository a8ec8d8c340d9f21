import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WaiaasError } from '../../core/errors.ts';
import { decryptKeystore, encryptKeystore, type KeystoreWriteOptions } from '../keystore.ts';
import { readKeystoreFile, writeKeystoreFile } from '../keystore-file.ts';
import { openSealedBlob, sealedHeader, type VaultContext, vaultCorrupt } from './sealed-blob.ts';
import type { KeyVault } from './types.ts';

export interface LocalVaultConfig {
  kind: 'local';
  /** A keystore of its own, apart from any owner key. */
  keystorePath: string;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Creates the vault key and its keystore. */
export const provisionLocalVault = async (
  spec: { keystorePath: string; passphrase: string },
  options: KeystoreWriteOptions = {},
): Promise<LocalVaultConfig> => {
  const key = randomBytes(32);
  try {
    await writeKeystoreFile(
      spec.keystorePath,
      await encryptKeystore({ purpose: 'vault-key', secret: key }, spec.passphrase, options),
    );
    return { kind: 'local', keystorePath: spec.keystorePath };
  } finally {
    key.fill(0);
  }
};

/** AES-256-GCM under the vault key; the header (with the context digest) is the additional data. */
export const openLocalVault = async (config: LocalVaultConfig, passphrase: string): Promise<KeyVault> => {
  const { secret } = await decryptKeystore(
    await readKeystoreFile(config.keystorePath),
    passphrase,
    'vault-key',
  );
  let key: Uint8Array | undefined = secret;
  const vaultKey = () => {
    if (key === undefined) throw new WaiaasError('VAULT_UNAVAILABLE', { message: 'The vault is closed' });
    return key;
  };
  return {
    kind: 'local',
    async seal(plaintext: Uint8Array, context: VaultContext) {
      const header = sealedHeader('local', context);
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', vaultKey(), nonce);
      cipher.setAAD(header);
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return new Uint8Array(Buffer.concat([header, nonce, body, cipher.getAuthTag()]));
    },
    async unseal(blob, context, recipient) {
      if (recipient !== undefined) {
        throw new WaiaasError('VALIDATION_FAILED', {
          message: 'The local vault has no attested recipient path',
        });
      }
      const { header, body } = openSealedBlob(blob, 'local', context);
      if (body.length < NONCE_BYTES + TAG_BYTES) throw vaultCorrupt('truncated');
      const decipher = createDecipheriv('aes-256-gcm', vaultKey(), body.subarray(0, NONCE_BYTES));
      decipher.setAAD(header);
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const head = decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES));
      try {
        decipher.final();
      } catch {
        head.fill(0);
        throw vaultCorrupt('authentication failed');
      }
      const plaintext = new Uint8Array(head);
      head.fill(0);
      return plaintext;
    },
    async close() {
      key?.fill(0);
      key = undefined;
    },
  };
};
