import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { addressFromBytes } from '../core/address.ts';
import { WaiaasError } from '../core/errors.ts';
import { privateKeyFromSeed, publicKeyBytesOf } from './ed25519.ts';
import {
  assertPassphraseAcceptable,
  decryptKeystore,
  encryptKeystore,
  type KeystoreFileV1,
  type KeystorePurpose,
  type KeystoreSecret,
  type KeystoreWriteOptions,
} from './keystore.ts';

const FILE_MODE = 0o600;

const writeNew = async (path: string, text: string): Promise<void> => {
  const handle = await open(path, 'wx', FILE_MODE);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  // open() applies the umask, which can only remove bits; chmod makes the mode exact anyway.
  await chmod(path, FILE_MODE);
};

/** Writes a keystore readable by its owner only. Refuses to replace an existing file unless asked. */
export const writeKeystoreFile = async (
  path: string,
  file: KeystoreFileV1,
  options: { replace?: boolean } = {},
): Promise<void> => {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify(file, null, 2)}\n`;
  if (options.replace !== true) {
    try {
      await writeNew(path, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new WaiaasError('CONFLICT', {
          message: 'A keystore already exists at this path',
          details: { path },
        });
      }
      throw error;
    }
    return;
  }
  // Replace atomically: a crash leaves either the old file or the new one, never half of each.
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeNew(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
};

export const readKeystoreFile = async (path: string): Promise<string> => {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new WaiaasError('CONFIG_INVALID', { message: 'Keystore file not found', details: { path } });
    }
    throw error;
  }
};

const purposeOf = (text: string): KeystorePurpose => {
  try {
    const purpose = (JSON.parse(text) as { purpose?: unknown }).purpose;
    if (purpose === 'owner-key' || purpose === 'vault-key') return purpose;
  } catch {
    // reported below as damage
  }
  throw new WaiaasError('KEYSTORE_CORRUPT', { details: { reason: 'not a keystore' } });
};

/** For an owner keystore, the seed must still produce the public key written next to it. */
export const assertOwnerSeedMatches = (secret: KeystoreSecret): void => {
  if (secret.purpose !== 'owner-key') return;
  const derived = addressFromBytes(publicKeyBytesOf(privateKeyFromSeed(secret.secret)));
  if (derived !== secret.publicKey) {
    throw new WaiaasError('KEYSTORE_CORRUPT', { details: { reason: 'public key does not match the key' } });
  }
};

/**
 * Re-encrypts a keystore under a new passphrase (fresh salt and nonce), keeping its key and public
 * key. `waiaas keystore change-passphrase` calls this.
 */
export const changeKeystorePassphrase = async (
  path: string,
  currentPassphrase: string,
  newPassphrase: string,
  options: KeystoreWriteOptions = {},
): Promise<void> => {
  assertPassphraseAcceptable(newPassphrase);
  const text = await readKeystoreFile(path);
  const secret = await decryptKeystore(text, currentPassphrase, purposeOf(text));
  try {
    assertOwnerSeedMatches(secret);
    await writeKeystoreFile(path, await encryptKeystore(secret, newPassphrase, options), { replace: true });
  } finally {
    secret.secret.fill(0);
  }
};
