/**
 * A transfer's likely fate from the policy and the budget alone, for `dry_run_send` while the daemon
 * has no dry-run endpoint. The daemon decides; this only reads the same rules in the same order
 * (asset, per-transaction cap, recipient, hours, daily budget). It cannot see the rate counters.
 */
import type { Policy, Tier } from '../sdk/index.ts';
import type { Budget } from './budget.ts';

export type Estimate =
  | { ok: true; tier: Tier }
  | {
      ok: false;
      code:
        | 'ASSET_NOT_ALLOWED'
        | 'POLICY_PER_TX_LIMIT'
        | 'RECIPIENT_NOT_ALLOWED'
        | 'OUTSIDE_HOURS'
        | 'POLICY_DAILY_LIMIT'
        | 'WALLET_FROZEN';
    };

export function estimateTransfer(
  policy: Policy,
  budget: Budget,
  request: { asset: string; amount: bigint; to: string },
  nowMs = Date.now(),
): Estimate {
  if (budget.walletStatus !== 'active') return { ok: false, code: 'WALLET_FROZEN' };
  const limits = policy.assets[request.asset];
  if (!limits) return { ok: false, code: 'ASSET_NOT_ALLOWED' };
  if (request.amount > limits.perTransaction) return { ok: false, code: 'POLICY_PER_TX_LIMIT' };
  if (policy.recipients.mode === 'allowlist' && !policy.recipients.addresses.includes(request.to)) {
    return { ok: false, code: 'RECIPIENT_NOT_ALLOWED' };
  }
  const now = new Date(nowMs);
  const [start, end] = policy.hours.utc;
  if (!policy.hours.days.includes(now.getUTCDay()) || now.getUTCHours() < start || now.getUTCHours() >= end) {
    return { ok: false, code: 'OUTSIDE_HOURS' };
  }
  const { instantMax, notifyMax, delayMax } = limits.tiers;
  const tier: Tier =
    request.amount <= instantMax
      ? 'instant'
      : request.amount <= notifyMax
        ? 'notify'
        : request.amount <= delayMax
          ? 'delay'
          : 'approval';
  const remaining =
    budget.assets.find((asset) => asset.asset === request.asset)?.remainingToday ?? limits.daily;
  if (tier !== 'approval' && request.amount > remaining) return { ok: false, code: 'POLICY_DAILY_LIMIT' };
  return { ok: true, tier };
}
