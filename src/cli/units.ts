/** Amounts for people: SOL and token decimals in tables and sentences; --json keeps base units. */
import { formatUnits, SOL_DECIMALS, type WaiaasClient } from '../sdk/index.ts';

export const shortAddress = (address: string): string =>
  address.length > 12 ? `${address.slice(0, 4)}…${address.slice(-4)}` : address;

/** "0.05 SOL"; a token with known decimals "1.5 EPjF…Dt1v"; else "1500000 base units of EPjF…Dt1v". */
export function formatAmount(asset: string, amount: bigint, decimals?: number | null): string {
  if (asset === 'SOL') return `${formatUnits(amount, SOL_DECIMALS)} SOL`;
  if (decimals === undefined || decimals === null) return `${amount} base units of ${shortAddress(asset)}`;
  return `${formatUnits(amount, decimals)} ${shortAddress(asset)}`;
}

/** The decimals of each token the wallet's policy names, as its balance reports them (read once). */
export async function tokenDecimals(client: WaiaasClient, walletId: string): Promise<Map<string, number>> {
  try {
    const balance = await client.balance(walletId);
    return new Map(
      balance.tokens.flatMap((token) =>
        token.decimals === null ? [] : [[token.mint, token.decimals] as const],
      ),
    );
  } catch {
    return new Map(); // amounts then show in base units
  }
}
