import bs58 from 'bs58';
import { invalidParams } from './errors.ts';

/** Validators for JSON-RPC params; each throws -32602 in Solana's wording. */

export type Params = readonly unknown[];

export const asParams = (value: unknown): Params => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidParams('Invalid params: expected an array');
  return value;
};

export function address(value: unknown, what = 'param'): Uint8Array {
  if (typeof value !== 'string') throw invalidParams(`Invalid ${what}: expected a base58 string`);
  let bytes: Uint8Array;
  try {
    bytes = bs58.decode(value);
  } catch {
    throw invalidParams(`Invalid ${what}: Invalid`);
  }
  if (bytes.length !== 32) throw invalidParams(`Invalid ${what}: WrongSize`);
  return bytes;
}

export function signature(value: unknown): string {
  if (typeof value !== 'string') throw invalidParams('Invalid param: expected a base58 signature');
  let bytes: Uint8Array;
  try {
    bytes = bs58.decode(value);
  } catch {
    throw invalidParams('Invalid param: Invalid');
  }
  if (bytes.length !== 64) throw invalidParams('Invalid param: WrongSize');
  return value;
}

const COMMITMENTS = new Set([
  'processed',
  'confirmed',
  'finalized',
  'recent',
  'single',
  'singleGossip',
  'root',
  'max',
]);

export function config(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidParams('Invalid params: expected a config object');
  const result = value as Record<string, unknown>;
  const commitment = result['commitment'] ?? result['preflightCommitment'];
  if (commitment !== undefined && (typeof commitment !== 'string' || !COMMITMENTS.has(commitment))) {
    throw invalidParams(`Invalid params: unknown commitment ${String(commitment)}`);
  }
  return result;
}

export function unsignedInteger(value: unknown, what: string): number {
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw invalidParams(`Invalid params: ${what} must be a non-negative integer`);
  }
  return number;
}

export function optionalBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidParams(`Invalid params: ${what} must be a boolean`);
  return value;
}

export function oneOf<const T extends string>(
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  what: string,
): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidParams(`Invalid params: ${what} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function array(value: unknown, what: string, max: number): readonly unknown[] {
  if (!Array.isArray(value)) throw invalidParams(`Invalid params: ${what} must be an array`);
  if (value.length > max) throw invalidParams(`Too many inputs provided; max ${max}`);
  return value;
}
