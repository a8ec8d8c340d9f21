/** Amounts as the model reads and writes them: UI units with the asset's name ("0.25 SOL"). */
import { formatUnits, SOL_DECIMALS } from '../sdk/index.ts';

export const SOL_ASSET = 'SOL';

/** What the wallet knows about each asset's decimals: SOL always, tokens from the vault's balance read. */
export type Decimals = ReadonlyMap<string, number>;

export const decimalsOf = (decimals: Decimals, asset: string): number | undefined =>
  asset === SOL_ASSET ? SOL_DECIMALS : decimals.get(asset);

/** "SOL", or "token <mint>" (mints have no trustworthy name on chain; the address is the name). */
export const assetLabel = (asset: string): string => (asset === SOL_ASSET ? 'SOL' : `token ${asset}`);

/** "0.25 SOL"; a token whose decimals are unknown shows its base units, saying so. */
export function amountText(amount: bigint, asset: string, decimals: Decimals): string {
  const places = decimalsOf(decimals, asset);
  if (places === undefined) return `${amount} base units of ${assetLabel(asset)}`;
  return `${formatUnits(amount, places)} ${assetLabel(asset)}`;
}
