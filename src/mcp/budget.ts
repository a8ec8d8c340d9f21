/**
 * What the agent may still send, per asset, from the policy and the usage each layer reports. Pure, so
 * the numbers in tool descriptions, `get_budget` and refusal explanations are one computation.
 */
import type { AssetLimits, Policy, Usage } from '../sdk/index.ts';

export interface AssetBudget {
  readonly asset: string;
  readonly limits: AssetLimits;
  /** Left of the daily budget: the smallest that any layer (server, enclave, chain) reports. */
  readonly remainingToday: bigint;
  readonly spentToday: bigint;
  /** The largest transfer that would go through now without waiting: instant (or notify) tier. */
  readonly largestImmediate: bigint;
  /** The largest instant-tier transfer now. */
  readonly largestInstant: bigint;
  /** The largest transfer now that needs no owner approval (instant, notify or delay tier). */
  readonly largestWithoutApproval: bigint;
  /** Above `largestWithoutApproval` and up to this, the owner must approve (does not use the daily budget). */
  readonly largestWithApproval: bigint;
}

export interface Budget {
  readonly assets: AssetBudget[];
  /** Seconds the daily budget rolls over (a rolling window, not calendar days). */
  readonly windowSeconds: number;
  readonly maxPerHour: number;
  readonly walletStatus: Usage['status'];
}

// biome-ignore lint/complexity/useMathMinMax: Math.min takes numbers, not bigints.
const min = (...values: bigint[]): bigint => values.reduce((a, b) => (b < a ? b : a));
const atLeastZero = (value: bigint): bigint => (value < 0n ? 0n : value);

export function budgetOf(policy: Policy, usage: Usage): Budget {
  const assets = Object.entries(policy.assets).map(([asset, limits]): AssetBudget => {
    const used = usage.assets.find((entry) => entry.asset === asset);
    const layers = [used?.server.remaining, used?.enclave?.remaining, used?.chain?.remaining].filter(
      (value): value is bigint => typeof value === 'bigint',
    );
    const remainingToday = atLeastZero(min(limits.daily, ...layers));
    const frozen = usage.status !== 'active';
    const cap = (value: bigint) => (frozen ? 0n : value);
    return {
      asset,
      limits,
      remainingToday,
      spentToday: used?.server.spent ?? 0n,
      largestInstant: cap(min(limits.tiers.instantMax, limits.perTransaction, remainingToday)),
      largestImmediate: cap(min(limits.tiers.notifyMax, limits.perTransaction, remainingToday)),
      largestWithoutApproval: cap(min(limits.tiers.delayMax, limits.perTransaction, remainingToday)),
      largestWithApproval: cap(limits.perTransaction),
    };
  });
  return {
    assets,
    windowSeconds: usage.windowSeconds,
    maxPerHour: policy.rate.maxPerHour,
    walletStatus: usage.status,
  };
}
