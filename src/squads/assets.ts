import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../core/errors.ts';
import type { Policy } from '../core/policy-types.ts';
import { SOL_LIMIT_MINT } from './program.ts';
import { assertAmount, assertDecimals, assertUnique, toPublicKey } from './validate.ts';

/** An SPL token as a transfer needs it: the mint, its decimals (checked by the program), its token program. */
export interface TokenAsset {
  readonly mint: PublicKey;
  readonly decimals: number;
  /** Token or Token-2022; the classic Token program when omitted. */
  readonly tokenProgram?: PublicKey;
}

/** What moves in a transfer: SOL, or an SPL token. */
export type TransferAsset = 'SOL' | TokenAsset;

/** What a spending limit is for: SOL, or a token mint. */
export type LimitAsset = 'SOL' | PublicKey;

/** One on-chain spending limit of a wallet: `amount` per day, for the agent, to `destinations` (empty = any). */
export interface SpendingLimitSpec {
  readonly asset: LimitAsset;
  readonly amount: bigint;
  readonly destinations: readonly PublicKey[];
}

const isToken = (asset: TransferAsset): asset is TokenAsset => asset !== 'SOL';

/** The mint a spending limit stores: the all-zero key for SOL. */
export const limitMintOf = (asset: LimitAsset | TransferAsset): PublicKey => {
  if (asset === 'SOL') return SOL_LIMIT_MINT;
  return asset instanceof PublicKey ? asset : asset.mint;
};

export const limitAssetOf = (asset: TransferAsset): LimitAsset => (isToken(asset) ? asset.mint : 'SOL');

export const assetLabel = (asset: LimitAsset | TransferAsset): string =>
  asset === 'SOL' ? 'SOL' : limitMintOf(asset).toBase58();

export function assertTransferAsset(asset: TransferAsset): void {
  if (!isToken(asset)) return;
  if (!(asset.mint instanceof PublicKey))
    throw new WaiaasError('INVALID_ADDRESS', { details: { field: 'mint' } });
  if (asset.mint.equals(SOL_LIMIT_MINT)) {
    throw new WaiaasError('VALIDATION_FAILED', { message: 'The all-zero mint is not a token', details: {} });
  }
  assertDecimals(asset.decimals);
}

export function assertSpendingLimitSpecs(specs: readonly SpendingLimitSpec[]): void {
  assertUnique(
    specs.map((spec) => limitMintOf(spec.asset)),
    'spending limit assets',
  );
  for (const spec of specs) {
    assertAmount(spec.amount, `limits.${assetLabel(spec.asset)}.amount`);
    assertUnique(spec.destinations, `limits.${assetLabel(spec.asset)}.destinations`);
  }
}

/**
 * One spending limit per policy asset: `daily` per Day, to the allowlist (or anyone when the policy
 * allows any recipient). Allowlisted addresses are wallets; for tokens the program checks that the
 * destination token account belongs to one of them.
 *
 * An empty allowlist yields no limits at all: on chain an empty destination list means "anyone",
 * which would make the chain looser than the policy.
 */
export function spendingLimitSpecsFromPolicy(
  policy: Pick<Policy, 'assets' | 'recipients'>,
): SpendingLimitSpec[] {
  if (policy.recipients.mode === 'allowlist' && policy.recipients.addresses.size === 0) return [];
  const destinations =
    policy.recipients.mode === 'allowlist'
      ? [...policy.recipients.addresses].map((address) => toPublicKey(address, 'recipients.addresses'))
      : [];
  return [...policy.assets].map(([asset, limits]) => ({
    asset: asset === 'SOL' ? 'SOL' : toPublicKey(asset, 'assets'),
    amount: limits.daily,
    destinations,
  }));
}
