import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

export const ED25519_SEED_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

// RFC 8410 encodings of an Ed25519 key: a fixed prefix followed by the 32 raw bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The private key object for a 32-byte seed. The DER copy of the seed is wiped before returning. */
export const privateKeyFromSeed = (seed: Uint8Array): KeyObject => {
  if (seed.length !== ED25519_SEED_BYTES) throw new RangeError('An Ed25519 seed is 32 bytes');
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
};

export const publicKeyBytesOf = (key: KeyObject): Uint8Array => {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
};

export const spkiFromPublicKey = (publicKey: Uint8Array): Uint8Array => {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES)
    throw new RangeError('An Ed25519 public key is 32 bytes');
  return Buffer.concat([SPKI_PREFIX, publicKey]);
};

/** The 32-byte key inside a DER SubjectPublicKeyInfo, or undefined when it is not exactly an Ed25519 key. */
export const publicKeyFromSpki = (spki: Uint8Array): Uint8Array | undefined => {
  if (spki.length !== SPKI_PREFIX.length + ED25519_PUBLIC_KEY_BYTES) return undefined;
  if (!Buffer.from(spki.subarray(0, SPKI_PREFIX.length)).equals(SPKI_PREFIX)) return undefined;
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
};

export const publicKeyObject = (publicKey: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.from(spkiFromPublicKey(publicKey)), format: 'der', type: 'spki' });

export const signEd25519 = (key: KeyObject, message: Uint8Array): Uint8Array =>
  new Uint8Array(sign(null, message, key));

export const verifyEd25519 = (key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean =>
  signature.length === ED25519_SIGNATURE_BYTES && verify(null, message, key, signature);
