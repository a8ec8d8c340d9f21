import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../core/errors.ts';
import { U64_MAX } from './program.ts';

const invalid = (message: string, details: Record<string, unknown>) =>
  new WaiaasError('VALIDATION_FAILED', { message, details });

/** A positive amount in base units that fits the program's u64. */
export function assertAmount(amount: bigint, field = 'amount'): void {
  if (typeof amount !== 'bigint' || amount <= 0n || amount > U64_MAX) {
    throw new WaiaasError('INVALID_AMOUNT', { details: { field, amount: String(amount) } });
  }
}

export function assertDecimals(decimals: number, field = 'decimals'): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 255) {
    throw invalid('Token decimals must be an integer from 0 to 255', { field, decimals });
  }
}

/** The transaction index of a Squads vault transaction: a positive u64. */
export function assertTransactionIndex(index: bigint): void {
  if (typeof index !== 'bigint' || index <= 0n || index > U64_MAX) {
    throw invalid('Transaction index must be a positive u64', { transactionIndex: String(index) });
  }
}

export function assertDistinct(keys: Record<string, PublicKey>): void {
  const seen = new Map<string, string>();
  for (const [role, key] of Object.entries(keys)) {
    const other = seen.get(key.toBase58());
    if (other !== undefined) {
      throw invalid(`The ${role} key must differ from the ${other} key`, { [role]: key.toBase58() });
    }
    seen.set(key.toBase58(), role);
  }
}

export function assertUnique(keys: readonly PublicKey[], field: string): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.toBase58()))
      throw invalid(`Duplicate address in ${field}`, { field, address: key.toBase58() });
    seen.add(key.toBase58());
  }
}

/** The program-derived addresses we build for can never be the destination of a transfer out of the vault. */
export function assertNotVault(destination: PublicKey, vault: PublicKey): void {
  if (destination.equals(vault)) {
    throw invalid('The destination is the wallet vault itself', { destination: destination.toBase58() });
  }
}

export const toPublicKey = (value: PublicKey | string, field: string): PublicKey => {
  if (value instanceof PublicKey) return value;
  try {
    return new PublicKey(value);
  } catch {
    throw new WaiaasError('INVALID_ADDRESS', { details: { field, value: String(value).slice(0, 64) } });
  }
};
