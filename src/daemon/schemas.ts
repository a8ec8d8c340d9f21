import bs58 from 'bs58';
import { z } from 'zod';

export const ADDRESS_MESSAGE = 'expected a base58 Solana address of 32 bytes';
export const AMOUNT_MESSAGES = new Set([
  'expected a positive integer string in base units',
  'expected an amount that fits in u64',
]);

/** A base58 string that decodes to exactly 32 bytes: a Solana address. */
export const addressSchema = z
  .string()
  .refine((value) => {
    if (value.length < 32 || value.length > 44) return false;
    try {
      return bs58.decode(value).length === 32;
    } catch {
      return false;
    }
  }, ADDRESS_MESSAGE)
  .meta({ description: 'base58 Solana address', example: 'So11111111111111111111111111111111111111112' });

const U64_MAX = 2n ** 64n - 1n;

/** Base units as a decimal integer string, 1 to 2^64-1. */
const BASE_UNITS = /^[1-9][0-9]{0,19}$/;

export const amountSchema = z
  .string()
  .regex(BASE_UNITS, 'expected a positive integer string in base units')
  // Refinements run even after the regex failed: only a well-formed string may reach BigInt.
  .refine(
    (value) => !BASE_UNITS.test(value) || BigInt(value) <= U64_MAX,
    'expected an amount that fits in u64',
  )
  .meta({
    description: 'amount in base units (lamports or token base units), as a decimal string',
    example: '100000000',
  });

const mixedScripts = (value: string): boolean => {
  const latin = /\p{Script=Latin}/u.test(value);
  const others = [/\p{Script=Cyrillic}/u, /\p{Script=Greek}/u, /\p{Script=Armenian}/u].filter((script) =>
    script.test(value),
  ).length;
  return others + (latin ? 1 : 0) > 1;
};

/**
 * A display name people will trust: NFC-stable, no control or invisible characters, no mix of
 * Latin with look-alike scripts (a Cyrillic "а" inside a Latin name).
 */
export const nameSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((value) => value.trim() === value && value.length > 0, 'no leading or trailing spaces')
  .refine((value) => value.normalize('NFKC') === value, 'expected a name in normalised form (NFKC)')
  .refine((value) => !/[\p{C}]/u.test(value), 'no control or invisible characters')
  .refine((value) => !mixedScripts(value), 'no mix of Latin with look-alike scripts');

export const idParamsSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});
