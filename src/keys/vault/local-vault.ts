import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The vault key of a keystore (the passphrase is derived with argon2id). */
export const openLocalVault = async (config: LocalVaultConfig, passphrase: string): Promise<KeyVault> => {
  const { secret } = await decryptKeystore(
    await readKeystoreFile(config.keystorePath),
    passphrase,
    'vault-key',
  );
  return localVaultWithKey(secret);
};

const KEY_FILE_BYTES = 32;

const keyFileError = (path: string, reason: string) =>
  new WaiaasError('CONFIG_INVALID', {
    message: `The vault key file ${path} ${reason}`,
    details: { key: 'vault-key', reason },
  });

/**
 * The vault key as a raw 32-byte file, created (random, mode 0600) on first use: the agent enclave's
 * own key in process mode, kept in its state directory, which the daemon never reads. A passphrase
 * would add nothing here: it would have to be stored beside the file. A file others can read, or
 * that is not a plain file of the right size, is refused.
 */
export const openLocalVaultKeyFile = (path: string): { vault: KeyVault; created: boolean } => {
  let created = false;
  try {
    writeFileSync(path, randomBytes(KEY_FILE_BYTES), { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const info = lstatSync(path);
  if (!info.isFile()) throw keyFileError(path, 'is not a plain file');
  if ((info.mode & 0o077) !== 0) throw keyFileError(path, 'is open to other users (chmod 600 it)');
  if (info.size !== KEY_FILE_BYTES) throw keyFileError(path, `is not ${KEY_FILE_BYTES} bytes`);
  return { vault: localVaultWithKey(new Uint8Array(readFileSync(path))), created };
};

/** AES-256-GCM under the vault key; the header (with the context digest) is the additional data. */
export const localVaultWithKey = (secret: Uint8Array): KeyVault => {
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
