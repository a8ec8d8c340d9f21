import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { type Address, isAddress } from '../core/address.ts';
import { WaiaasError } from '../core/errors.ts';
import {
  DEFAULT_KDF,
  derivePassphraseKey,
  INSECURE_TEST_KDF,
  type KdfParams,
  kdfParamsWithinLimits,
} from './kdf.ts';

/**
 * Keystore file format, version 1 (JSON):
 *
 *   { version: 1, purpose, kdf: {name, memoryKiB, iterations, parallelism, salt},
 *     cipher: {name: "aes-256-gcm", nonce, ciphertext, tag}, passphraseCheck, publicKey?, checksum }
 *
 * argon2id turns the passphrase into 64 bytes: the first 32 are the AES-256-GCM key, the last 32 key an
 * HMAC whose value is `passphraseCheck`. Everything in the header (version, purpose, KDF parameters,
 * salt, nonce, public key) is GCM additional data, so an edit to any of it fails decryption.
 *
 * Telling a wrong passphrase from a damaged file: GCM alone fails the same way for both.
 * - `checksum` (SHA-256 over every other field, unkeyed) catches accidental damage and hand edits
 *   anywhere, before the expensive KDF runs: KEYSTORE_CORRUPT.
 * - `passphraseCheck` says whether the passphrase is right independently of the ciphertext: when it
 *   does not match, KEYSTORE_WRONG_PASSPHRASE; when it matches and GCM still fails, the ciphertext,
 *   tag, nonce or bound header was changed by someone who also recomputed the checksum:
 *   KEYSTORE_CORRUPT. It costs an attacker nothing new: guessing still needs one argon2id run per guess.
 * A forger who edits the salt or KDF parameters and recomputes the checksum gets "wrong passphrase";
 * that is the one case no unkeyed format can tell apart, and nothing is ever decrypted for them.
 */

export const KEYSTORE_VERSION = 1;
export type KeystorePurpose = 'owner-key' | 'vault-key';

export interface KeystoreFileV1 {
  version: 1;
  purpose: KeystorePurpose;
  kdf: KdfParams & { salt: string };
  cipher: { name: 'aes-256-gcm'; nonce: string; ciphertext: string; tag: string };
  passphraseCheck: string;
  publicKey?: Address;
  checksum: string;
}

export interface KeystoreSecret {
  purpose: KeystorePurpose;
  secret: Uint8Array;
  publicKey?: Address;
}

export interface KeystoreWriteOptions {
  /** Uses a tiny argon2id cost so test suites stay fast. Never set outside tests. */
  insecureKdfForTests?: boolean;
}

export const MIN_PASSPHRASE_LENGTH = 8;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const MAX_SECRET_BYTES = 1024;
const CHECK_LABEL = 'waiaas-keystore-passphrase-check';

const corrupt = (reason: string) => new WaiaasError('KEYSTORE_CORRUPT', { details: { reason } });

const additionalData = (file: Omit<KeystoreFileV1, 'checksum' | 'passphraseCheck'>): Buffer =>
  Buffer.from(
    JSON.stringify([
      'waiaas-keystore',
      file.version,
      file.purpose,
      file.kdf.name,
      file.kdf.memoryKiB,
      file.kdf.iterations,
      file.kdf.parallelism,
      file.kdf.salt,
      file.cipher.name,
      file.cipher.nonce,
      file.publicKey ?? null,
    ]),
  );

/** The unkeyed checksum over every other field (exported for tooling and tests that play the forger). */
export const keystoreChecksum = (file: Omit<KeystoreFileV1, 'checksum'>): string =>
  createHash('sha256')
    .update(additionalData(file))
    .update(JSON.stringify([file.cipher.ciphertext, file.cipher.tag, file.passphraseCheck]))
    .digest('hex');

// Depends on the passphrase, salt and KDF parameters only (through the derived key), not on the
// fields GCM authenticates, so an edit to those reads as damage rather than as a wrong passphrase.
const passphraseCheckOf = (checkKey: Uint8Array): Buffer =>
  createHmac('sha256', checkKey).update(CHECK_LABEL).digest();

export const assertPassphraseAcceptable = (passphrase: string): void => {
  if ([...passphrase.normalize('NFC')].length < MIN_PASSPHRASE_LENGTH) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: `The passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`,
      details: { field: 'passphrase', minLength: MIN_PASSPHRASE_LENGTH },
    });
  }
};

export const encryptKeystore = async (
  input: KeystoreSecret,
  passphrase: string,
  options: KeystoreWriteOptions = {},
): Promise<KeystoreFileV1> => {
  assertPassphraseAcceptable(passphrase);
  if (input.secret.length === 0 || input.secret.length > MAX_SECRET_BYTES) {
    throw new RangeError('Keystore secret size out of range');
  }
  const params = options.insecureKdfForTests === true ? INSECURE_TEST_KDF : DEFAULT_KDF;
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const header = {
    version: KEYSTORE_VERSION,
    purpose: input.purpose,
    kdf: { ...params, salt: salt.toString('base64') },
    cipher: { name: 'aes-256-gcm', nonce: nonce.toString('base64'), ciphertext: '', tag: '' },
    ...(input.publicKey === undefined ? {} : { publicKey: input.publicKey }),
  } satisfies Omit<KeystoreFileV1, 'checksum' | 'passphraseCheck'>;
  const aad = additionalData(header);
  const derived = await derivePassphraseKey(passphrase, salt, params, 2 * KEY_BYTES);
  try {
    const cipher = createCipheriv('aes-256-gcm', derived.subarray(0, KEY_BYTES), nonce);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(input.secret), cipher.final()]);
    const withoutChecksum = {
      ...header,
      cipher: {
        ...header.cipher,
        ciphertext: ciphertext.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
      },
      passphraseCheck: passphraseCheckOf(derived.subarray(KEY_BYTES)).toString('base64'),
    };
    return { ...withoutChecksum, checksum: keystoreChecksum(withoutChecksum) };
  } finally {
    derived.fill(0);
  }
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const base64Field = (value: unknown, name: string, min: number, max: number): Buffer => {
  if (typeof value !== 'string') throw corrupt(`${name} missing`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw corrupt(`${name} is not base64`);
  if (bytes.length < min || bytes.length > max) throw corrupt(`${name} has the wrong length`);
  return bytes;
};

const integerField = (value: unknown, name: string): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw corrupt(`${name} missing`);
  return value;
};

/** Parses and checks a keystore's structure and checksum; no passphrase needed. */
export const parseKeystore = (text: string, purpose: KeystorePurpose): KeystoreFileV1 => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  if (!isRecord(json)) throw corrupt('not a keystore object');
  if (json.version !== KEYSTORE_VERSION) {
    if (typeof json.version === 'number') {
      throw new WaiaasError('KEYSTORE_UNSUPPORTED_VERSION', {
        details: { version: json.version, supported: [KEYSTORE_VERSION] },
      });
    }
    throw corrupt('version missing');
  }
  if (json.purpose !== purpose) throw corrupt(`not a ${purpose} keystore`);
  const { kdf, cipher } = json;
  if (!isRecord(kdf) || kdf.name !== 'argon2id') throw corrupt('kdf missing');
  if (!isRecord(cipher) || cipher.name !== 'aes-256-gcm') throw corrupt('cipher missing');
  const params: KdfParams = {
    name: 'argon2id',
    memoryKiB: integerField(kdf.memoryKiB, 'kdf.memoryKiB'),
    iterations: integerField(kdf.iterations, 'kdf.iterations'),
    parallelism: integerField(kdf.parallelism, 'kdf.parallelism'),
  };
  base64Field(kdf.salt, 'kdf.salt', SALT_BYTES, 64);
  base64Field(cipher.nonce, 'cipher.nonce', NONCE_BYTES, NONCE_BYTES);
  base64Field(cipher.ciphertext, 'cipher.ciphertext', 1, MAX_SECRET_BYTES);
  base64Field(cipher.tag, 'cipher.tag', TAG_BYTES, TAG_BYTES);
  base64Field(json.passphraseCheck, 'passphraseCheck', 32, 32);
  const publicKey = json.publicKey;
  if (
    purpose === 'owner-key' ? typeof publicKey !== 'string' || !isAddress(publicKey) : publicKey !== undefined
  ) {
    throw corrupt('publicKey missing or malformed');
  }
  if (typeof json.checksum !== 'string') throw corrupt('checksum missing');
  const file: KeystoreFileV1 = {
    version: KEYSTORE_VERSION,
    purpose,
    kdf: { ...params, salt: kdf.salt as string },
    cipher: {
      name: 'aes-256-gcm',
      nonce: cipher.nonce as string,
      ciphertext: cipher.ciphertext as string,
      tag: cipher.tag as string,
    },
    passphraseCheck: json.passphraseCheck as string,
    ...(publicKey === undefined ? {} : { publicKey: publicKey as Address }),
    checksum: json.checksum,
  };
  if (keystoreChecksum(file) !== file.checksum) throw corrupt('checksum mismatch');
  // After the checksum, so that an out-of-range value is reported as damage, not tried.
  if (!kdfParamsWithinLimits(params)) throw corrupt('kdf parameters out of range');
  return file;
};

/** Decrypts a keystore. The caller owns the returned secret and should `fill(0)` it after use. */
export const decryptKeystore = async (
  text: string,
  passphrase: string,
  purpose: KeystorePurpose,
): Promise<KeystoreSecret> => {
  const file = parseKeystore(text, purpose);
  const aad = additionalData(file);
  const derived = await derivePassphraseKey(
    passphrase,
    Buffer.from(file.kdf.salt, 'base64'),
    file.kdf,
    2 * KEY_BYTES,
  );
  try {
    const expectedCheck = Buffer.from(file.passphraseCheck, 'base64');
    if (!timingSafeEqual(passphraseCheckOf(derived.subarray(KEY_BYTES)), expectedCheck)) {
      throw new WaiaasError('KEYSTORE_WRONG_PASSPHRASE');
    }
    const decipher = createDecipheriv(
      'aes-256-gcm',
      derived.subarray(0, KEY_BYTES),
      Buffer.from(file.cipher.nonce, 'base64'),
    );
    decipher.setAAD(aad);
    decipher.setAuthTag(Buffer.from(file.cipher.tag, 'base64'));
    const head = decipher.update(Buffer.from(file.cipher.ciphertext, 'base64'));
    let tail: Buffer;
    try {
      tail = decipher.final();
    } catch {
      head.fill(0);
      throw corrupt('ciphertext or header was altered');
    }
    const secret = new Uint8Array(head.length + tail.length);
    secret.set(head);
    secret.set(tail, head.length);
    head.fill(0);
    tail.fill(0);
    return { purpose, secret, ...(file.publicKey === undefined ? {} : { publicKey: file.publicKey }) };
  } finally {
    derived.fill(0);
  }
};
