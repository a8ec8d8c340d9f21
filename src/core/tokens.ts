/**
 * Bearer tokens: random, shown once, stored only as a hash.
 *
 * Tokens carry 256 bits of randomness, so a single unsalted SHA-256 is enough to store them: there
 * is nothing to brute-force, and a fast hash lets us look a token up by its hash in one indexed query.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_BYTES = 32;

/**
 * A new random token, base64url (43 characters after the prefix). The prefix (e.g. `waiaas_op_`)
 * tells a human and a secret scanner what leaked; it adds no secrecy.
 */
export const generateToken = (prefix = ''): string => prefix + randomBytes(TOKEN_BYTES).toString('base64url');

/** The hash to store and look tokens up by: lowercase hex SHA-256 of the UTF-8 token. */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Compares two secrets without leaking where they differ, nor their lengths: both sides are hashed
 * to 32 bytes first, so `timingSafeEqual` always sees equal lengths.
 */
export const constantTimeEqual = (a: string, b: string): boolean => {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
};
