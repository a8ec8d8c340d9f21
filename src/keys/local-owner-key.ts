import { randomBytes } from 'node:crypto';
import { type Address, addressFromBytes, addressToBytes } from '../core/address.ts';
import { WaiaasError } from '../core/errors.ts';
import { privateKeyFromSeed, publicKeyBytesOf, signEd25519 } from './ed25519.ts';
import { decryptKeystore, encryptKeystore, type KeystoreWriteOptions, parseKeystore } from './keystore.ts';
import { assertOwnerSeedMatches, readKeystoreFile, writeKeystoreFile } from './keystore-file.ts';
import {
  type OwnerKeyBackend,
  type OwnerKeyOptions,
  ownerKeyFromBackend,
  releasedSessionError,
} from './owner-key.ts';
import type { OwnerKey } from './types.ts';

export interface LocalOwnerKeyConfig {
  kind: 'local';
  keystorePath: string;
  /** The owner's public key as recorded at creation; a keystore holding another key is refused. */
  publicKey?: Address;
}

const assertPinned = (config: LocalOwnerKeyConfig, found: Address | undefined) => {
  if (config.publicKey !== undefined && found !== config.publicKey) {
    throw new WaiaasError('KEYSTORE_CORRUPT', {
      details: {
        reason: 'the keystore holds another public key than this owner',
        expected: config.publicKey,
      },
    });
  }
};

export const localOwnerKeyBackend = (config: LocalOwnerKeyConfig): OwnerKeyBackend => ({
  kind: 'local',
  secondFactor: 'passphrase',
  async publicKey() {
    const file = parseKeystore(await readKeystoreFile(config.keystorePath), 'owner-key');
    assertPinned(config, file.publicKey);
    return addressToBytes(file.publicKey as Address);
  },
  async openSession(passphrase) {
    const secret = await decryptKeystore(
      await readKeystoreFile(config.keystorePath),
      passphrase ?? '',
      'owner-key',
    );
    let key: ReturnType<typeof privateKeyFromSeed> | undefined;
    try {
      assertOwnerSeedMatches(secret);
      assertPinned(config, secret.publicKey);
      key = privateKeyFromSeed(secret.secret);
    } finally {
      secret.secret.fill(0);
    }
    return {
      async sign(message) {
        if (key === undefined) throw releasedSessionError();
        return signEd25519(key, message);
      },
      release() {
        // A KeyObject cannot be wiped from JavaScript; dropping the last reference lets OpenSSL free it.
        key = undefined;
      },
    };
  },
  async close() {},
});

export const createLocalOwnerKey = (config: LocalOwnerKeyConfig, options: OwnerKeyOptions = {}): OwnerKey =>
  ownerKeyFromBackend(localOwnerKeyBackend(config), options);

/** Generates a new owner key and writes its keystore (refusing to overwrite one). */
export const provisionLocalOwnerKey = async (
  spec: { keystorePath: string; passphrase: string },
  options: KeystoreWriteOptions = {},
): Promise<{ config: LocalOwnerKeyConfig; publicKey: Address }> => {
  const seed = randomBytes(32);
  try {
    const publicKey = addressFromBytes(publicKeyBytesOf(privateKeyFromSeed(seed)));
    const file = await encryptKeystore(
      { purpose: 'owner-key', secret: seed, publicKey },
      spec.passphrase,
      options,
    );
    await writeKeystoreFile(spec.keystorePath, file);
    return { config: { kind: 'local', keystorePath: spec.keystorePath, publicKey }, publicKey };
  } finally {
    seed.fill(0);
  }
};
