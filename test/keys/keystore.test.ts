import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KDF, derivePassphraseKey } from '../../src/keys/kdf.ts';
import { type KeystoreFileV1, keystoreChecksum } from '../../src/keys/keystore.ts';
import { changeKeystorePassphrase } from '../../src/keys/keystore-file.ts';
import { createLocalOwnerKey, provisionLocalOwnerKey } from '../../src/keys/local-owner-key.ts';
import { provisionLocalVault } from '../../src/keys/vault/local-vault.ts';
import { expectCode, verifies } from './support.ts';

const PASSPHRASE = 'correct horse battery staple';
const fast = { insecureKdfForTests: true } as const;
const message = new TextEncoder().encode('policy bundle v4');

let dir: string;
let counter = 0;
const freshPath = () => join(dir, `owner-${++counter}.keystore.json`);

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as KeystoreFileV1;

/** Rewrites a keystore as a forger would: edit, then recompute the checksum so only cryptography can tell. */
const forge = async (path: string, edit: (file: KeystoreFileV1) => void) => {
  const file = await readJson(path);
  edit(file);
  const { checksum: _old, ...rest } = file;
  await writeFile(path, JSON.stringify({ ...rest, checksum: keystoreChecksum(rest) }));
};

const flipBase64 = (value: string) => {
  const bytes = Buffer.from(value, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  return bytes.toString('base64');
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waiaas-keystore-'));
});

describe('local keystore', () => {
  it('is written with argon2id at 64 MiB by default, mode 0600, and its key signs after unlocking', async () => {
    const path = freshPath();
    const { publicKey } = await provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE });
    const file = await readJson(path);
    expect(file.version).toBe(1);
    expect(file.kdf).toMatchObject({ name: 'argon2id', memoryKiB: 65_536, iterations: 3, parallelism: 1 });
    expect(DEFAULT_KDF.memoryKiB).toBeGreaterThanOrEqual(65_536);
    expect(Buffer.from(file.kdf.salt, 'base64')).toHaveLength(16);
    expect(file.publicKey).toBe(publicKey);
    expect(JSON.stringify(file)).not.toContain(PASSPHRASE);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const key = createLocalOwnerKey({ kind: 'local', keystorePath: path });
    const signature = await key.sign(message, PASSPHRASE);
    expect(verifies(publicKey, message, signature)).toBe(true);
  });

  it('derives keys off the main thread, so the daemon keeps serving during a 64 MiB derivation', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 1);
    const derived = await derivePassphraseKey(PASSPHRASE, new Uint8Array(16), DEFAULT_KDF, 64);
    clearInterval(timer);
    expect(derived).toHaveLength(64);
    // Run inline, argon2id would hold the event loop for the whole derivation and no timer would fire.
    expect(ticks).toBeGreaterThan(20);
  });

  it('refuses a wrong passphrase with KEYSTORE_WRONG_PASSPHRASE and signs nothing', async () => {
    const path = freshPath();
    await provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE }, fast);
    const key = createLocalOwnerKey({ kind: 'local', keystorePath: path });
    await expectCode(key.sign(message, 'wrong horse battery staple'), 'KEYSTORE_WRONG_PASSPHRASE');
    await expectCode(key.sign(message), 'OWNER_UNLOCK_REQUIRED');
  });

  it('reports an edited ciphertext as KEYSTORE_CORRUPT even with the right passphrase and a recomputed checksum', async () => {
    const path = freshPath();
    await provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE }, fast);
    await forge(path, (file) => {
      file.cipher.ciphertext = flipBase64(file.cipher.ciphertext);
    });
    const error = await expectCode(
      createLocalOwnerKey({ kind: 'local', keystorePath: path }).sign(message, PASSPHRASE),
      'KEYSTORE_CORRUPT',
    );
    expect(JSON.stringify(error)).not.toContain(PASSPHRASE);
  });

  it('detects a swapped public key (bound as additional data) as KEYSTORE_CORRUPT', async () => {
    const path = freshPath();
    const other = freshPath();
    await provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE }, fast);
    const { publicKey: otherKey } = await provisionLocalOwnerKey(
      { keystorePath: other, passphrase: PASSPHRASE },
      fast,
    );
    await forge(path, (file) => {
      file.publicKey = otherKey;
    });
    await expectCode(
      createLocalOwnerKey({ kind: 'local', keystorePath: path }).sign(message, PASSPHRASE),
      'KEYSTORE_CORRUPT',
    );
  });

  it('reports a hand-edited or truncated file as KEYSTORE_CORRUPT before running the KDF', async () => {
    const path = freshPath();
    await provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE }, fast);
    const original = await readFile(path, 'utf8');
    const key = createLocalOwnerKey({ kind: 'local', keystorePath: path });

    const edited = JSON.parse(original) as KeystoreFileV1;
    edited.kdf.salt = flipBase64(edited.kdf.salt);
    await writeFile(path, JSON.stringify(edited));
    await expectCode(key.sign(message, PASSPHRASE), 'KEYSTORE_CORRUPT');

    await writeFile(path, original.slice(0, Math.floor(original.length / 2)));
    await expectCode(key.sign(message, PASSPHRASE), 'KEYSTORE_CORRUPT');
    await expectCode(key.publicKey(), 'KEYSTORE_CORRUPT');

    const { tag: _tag, ...cipherWithoutTag } = JSON.parse(original).cipher;
    await writeFile(path, JSON.stringify({ ...JSON.parse(original), cipher: cipherWithoutTag }));
    await expectCode(key.sign(message, PASSPHRASE), 'KEYSTORE_CORRUPT');
  });

  it('refuses absurd KDF parameters without trying them', async () => {
    const path = freshPath();
    await provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE }, fast);
    await forge(path, (file) => {
      (file.kdf as { memoryKiB: number }).memoryKiB = 2 ** 40;
    });
    const started = performance.now();
    await expectCode(
      createLocalOwnerKey({ kind: 'local', keystorePath: path }).sign(message, PASSPHRASE),
      'KEYSTORE_CORRUPT',
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses an unknown version with KEYSTORE_UNSUPPORTED_VERSION', async () => {
    const path = freshPath();
    await provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE }, fast);
    const file = await readJson(path);
    await writeFile(path, JSON.stringify({ ...file, version: 2 }));
    const error = await expectCode(
      createLocalOwnerKey({ kind: 'local', keystorePath: path }).sign(message, PASSPHRASE),
      'KEYSTORE_UNSUPPORTED_VERSION',
    );
    expect(error.details).toMatchObject({ version: 2, supported: [1] });
  });

  it('refuses a vault keystore where an owner keystore is expected', async () => {
    const path = freshPath();
    await provisionLocalVault({ keystorePath: path, passphrase: PASSPHRASE }, fast);
    await expectCode(
      createLocalOwnerKey({ kind: 'local', keystorePath: path }).sign(message, PASSPHRASE),
      'KEYSTORE_CORRUPT',
    );
  });

  it('changes the passphrase: the old one stops working, the key and its public key stay', async () => {
    const path = freshPath();
    const { publicKey } = await provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE }, fast);
    const before = await readJson(path);
    await changeKeystorePassphrase(path, PASSPHRASE, 'a brand new passphrase', fast);
    const after = await readJson(path);
    expect(after.publicKey).toBe(publicKey);
    expect(after.kdf.salt).not.toBe(before.kdf.salt);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const key = createLocalOwnerKey({ kind: 'local', keystorePath: path, publicKey });
    await expectCode(key.sign(message, PASSPHRASE), 'KEYSTORE_WRONG_PASSPHRASE');
    const signature = await key.sign(message, 'a brand new passphrase');
    expect(verifies(publicKey, message, signature)).toBe(true);

    await expectCode(
      changeKeystorePassphrase(path, 'not the passphrase', 'another new one', fast),
      'KEYSTORE_WRONG_PASSPHRASE',
    );
    await expectCode(
      changeKeystorePassphrase(path, 'a brand new passphrase', 'short', fast),
      'VALIDATION_FAILED',
    );
  });

  it('refuses short passphrases and never overwrites an existing keystore', async () => {
    const path = freshPath();
    await expectCode(
      provisionLocalOwnerKey({ keystorePath: path, passphrase: 'short' }, fast),
      'VALIDATION_FAILED',
    );
    const { publicKey } = await provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE }, fast);
    await expectCode(
      provisionLocalOwnerKey({ keystorePath: path, passphrase: PASSPHRASE }, fast),
      'CONFLICT',
    );
    expect((await readJson(path)).publicKey).toBe(publicKey);
  });
});
