/**
 * The budget an agent plans with: per tier, the amounts that get it and the largest one every checked
 * layer would pass now; per window, what is left (daily amount at each layer, transfers per hour).
 */
import {
  DAILY_WINDOW_SECONDS,
  type Policy,
  RATE_WINDOW_SECONDS,
  TIERS,
  type Tier,
  withinHours,
} from '../../core/policy.ts';
import type { DryRunBudget, TierRange } from './types.ts';

export interface BudgetInputs {
  readonly policy: Policy;
  readonly asset: string;
  readonly nowMs: number;
  readonly serverSpent: bigint;
  readonly transfersInLastHour: number;
  /** Null where the layer was not checked or could not be. */
  readonly enclaveSpent: bigint | null;
  readonly chainRemaining: bigint | null;
  readonly balance: bigint | null;
}

const min = (values: readonly (bigint | null)[]): bigint | null =>
  values.reduce<bigint | null>(
    (least, value) => (value === null ? least : least === null || value < least ? value : least),
    null,
  );

const leftOf = (daily: bigint, spent: bigint): bigint => (daily > spent ? daily - spent : 0n);

export function budgetOf(inputs: BudgetInputs): DryRunBudget {
  const { policy, asset } = inputs;
  const limits = policy.assets.get(asset);
  const server = limits ? leftOf(limits.daily, inputs.serverSpent) : null;
  const enclave = limits && inputs.enclaveSpent !== null ? leftOf(limits.daily, inputs.enclaveSpent) : null;
  const effective = limits ? min([server, enclave, inputs.chainRemaining]) : null;

  const tiers: TierRange[] = [];
  if (limits) {
    const bounds: Record<Tier, bigint> = {
      instant: limits.tiers.instantMax,
      notify: limits.tiers.notifyMax,
      delay: limits.tiers.delayMax,
      approval: limits.perTransaction,
    };
    let from = 1n;
    for (const tier of TIERS) {
      const to = min([bounds[tier], limits.perTransaction]) ?? 0n;
      // Approval-tier transfers do not use the daily budget; the owner approves each one.
      const cap = min([to, tier === 'approval' ? null : effective, inputs.balance]) ?? to;
      tiers.push({
        tier,
        from: from.toString(),
        to: to >= from ? to.toString() : null,
        upTo: cap >= from ? cap.toString() : null,
      });
      if (to >= from) from = to + 1n;
    }
  }
  const used = inputs.transfersInLastHour;
  return {
    asset,
    perTransaction: limits ? limits.perTransaction.toString() : null,
    daily: limits ? limits.daily.toString() : null,
    windowSeconds: DAILY_WINDOW_SECONDS,
    remaining: {
      server: server === null ? null : server.toString(),
      enclave: enclave === null ? null : enclave.toString(),
      chain: inputs.chainRemaining === null ? null : inputs.chainRemaining.toString(),
      effective: effective === null ? null : effective.toString(),
    },
    balance: inputs.balance === null ? null : inputs.balance.toString(),
    tiers,
    delaySeconds: limits ? limits.tiers.delaySeconds : null,
    rate: {
      maxPerHour: policy.rate.maxPerHour,
      windowSeconds: RATE_WINDOW_SECONDS,
      used,
      remaining: Math.max(0, policy.rate.maxPerHour - used),
    },
    hours: {
      utc: [policy.hours.utc[0], policy.hours.utc[1]],
      days: [...policy.hours.days],
      allowedNow: withinHours(policy, inputs.nowMs),
    },
  };
}
