/** How amounts, addresses and times read in the console. Amounts stay bigint until shown. */
import { formatSol, formatUnits } from '../../src/sdk/index.ts';

export const toBig = (value: unknown): bigint | null => {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return null;
};

/** Decimals of each asset the console knows (SOL, and tokens whose balance carried them). */
export type Decimals = ReadonlyMap<string, number>;

export const assetLabel = (asset: string): string => (asset === 'SOL' ? 'SOL' : shortAddress(asset));

/** "1.5 SOL", "12.3 EPjF…Dt1v", or base units when the decimals are unknown. */
export function formatAmount(value: unknown, asset: string, decimals?: Decimals): string {
  const amount = toBig(value);
  if (amount === null) return '—';
  if (asset === 'SOL') return `${formatSol(amount)} SOL`;
  const known = decimals?.get(asset);
  return known === undefined
    ? `${amount} base units of ${assetLabel(asset)}`
    : `${formatUnits(amount, known)} ${assetLabel(asset)}`;
}

export const shortAddress = (address: string): string =>
  address.length > 12 ? `${address.slice(0, 4)}…${address.slice(-4)}` : address;

export const formatTime = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
};

/** "4 min 20 s", "2 h 5 min", or "now" once passed. */
export function timeLeft(untilIso: string | undefined, nowMs: number): string {
  if (!untilIso) return '—';
  const ms = new Date(untilIso).getTime() - nowMs;
  if (Number.isNaN(ms)) return '—';
  if (ms <= 0) return 'now';
  const seconds = Math.floor(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${seconds % 60} s`;
  return `${seconds} s`;
}

const EXPLORER = 'https://explorer.solana.com';

/**
 * Where a transaction signature is looked at: the public explorer on devnet and mainnet; on the
 * localnet (which no explorer sees) the transfer's own page, when the signature is a transfer's.
 */
export function signatureHref(network: string, signature: string, transferId?: string): string | undefined {
  if (network === 'mainnet-beta') return `${EXPLORER}/tx/${signature}`;
  if (network === 'devnet' || network === 'testnet') return `${EXPLORER}/tx/${signature}?cluster=${network}`;
  return transferId === undefined ? undefined : `#/transfers/${encodeURIComponent(transferId)}`;
}
