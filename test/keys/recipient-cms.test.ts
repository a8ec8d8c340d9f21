import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { decryptCiphertextForRecipient } from '../../src/keys/vault/recipient-cms.ts';
import { buildRecipientCms } from '../support/kms-recipient.ts';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = publicKey.export({ format: 'der', type: 'spki' });

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return isWaiaasError(error) ? error.code : String(error);
  }
};

/** Finds the offset of a DER/BER element by its leading bytes, to tamper with it precisely. */
const offsetOf = (haystack: Uint8Array, needle: Uint8Array) =>
  Buffer.from(haystack).indexOf(Buffer.from(needle));

describe('CiphertextForRecipient (CMS EnvelopedData) decryption', () => {
  it('decrypts BER with indefinite lengths and content split across many OCTET STRINGs', () => {
    const plaintext = randomBytes(200);
    const cms = buildRecipientCms(plaintext, spki, { chunkSize: 16 });
    // Indefinite-length outer SEQUENCE and [0], as KMS sends them.
    expect(Buffer.from(cms.subarray(0, 2)).toString('hex')).toBe('3080');
    const content = asn1js.fromBER(cms);
    expect(content.offset).toBe(cms.length);
    expect(Buffer.from(decryptCiphertextForRecipient(cms, privateKey))).toEqual(plaintext);
  });

  it('decrypts the definite-length form and a single piece too', () => {
    const plaintext = randomBytes(32);
    const cms = buildRecipientCms(plaintext, spki, { indefinite: false, chunkSize: 4096 });
    expect(Buffer.from(decryptCiphertextForRecipient(cms, privateKey))).toEqual(plaintext);
  });

  it('refuses a tampered encrypted content key, a broken padding block, a truncated blob and another private key', () => {
    const plaintext = Buffer.alloc(48, 0x42);
    const iv = Buffer.alloc(16, 1);
    const cms = buildRecipientCms(plaintext, spki, { chunkSize: 1024, iv });

    const keyTampered = Buffer.from(cms);
    const encryptedKeyAt = offsetOf(cms, Buffer.from('04820100', 'hex')) + 4;
    keyTampered[encryptedKeyAt + 10] = (keyTampered[encryptedKeyAt + 10] ?? 0) ^ 0xff;
    expect(codeOf(() => decryptCiphertextForRecipient(keyTampered, privateKey))).toBe('VAULT_CORRUPT');

    // 48 bytes of plaintext leave a last block of pure padding (16 x 0x10); flipping a bit of the
    // block before it flips the same bit of that padding, so the padding check must fail.
    const paddingTampered = Buffer.from(cms);
    const contentStart = offsetOf(cms, Buffer.from('a0800440', 'hex')) + 4;
    expect(contentStart).toBeGreaterThan(4);
    paddingTampered[contentStart + 32 + 15] = (paddingTampered[contentStart + 32 + 15] ?? 0) ^ 0x04;
    expect(codeOf(() => decryptCiphertextForRecipient(paddingTampered, privateKey))).toBe('VAULT_CORRUPT');

    expect(codeOf(() => decryptCiphertextForRecipient(cms.subarray(0, cms.length - 40), privateKey))).toBe(
      'VAULT_CORRUPT',
    );
    expect(codeOf(() => decryptCiphertextForRecipient(new Uint8Array([0x30, 0x80, 0x00]), privateKey))).toBe(
      'VAULT_CORRUPT',
    );

    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(codeOf(() => decryptCiphertextForRecipient(cms, other))).toBe('VAULT_CORRUPT');
  });

  it('refuses RSA-OAEP parameters that declare another hash than SHA-256', () => {
    // Encrypted with SHA-256 all the same, so only the parameter check can refuse it.
    const cms = buildRecipientCms(randomBytes(32), spki, { declaredOaepHash: 'sha1' });
    let error: unknown;
    try {
      decryptCiphertextForRecipient(cms, privateKey);
    } catch (caught) {
      error = caught;
    }
    expect(isWaiaasError(error, 'VAULT_CORRUPT') && error.details.reason).toBe(
      'RSA-OAEP parameters are not SHA-256',
    );
  });
});
