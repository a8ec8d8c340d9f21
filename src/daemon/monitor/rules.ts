/**
 * The monitor's rules, pure: given what happened recently, which rule (if any) fires. Windows are
 * counted back from now, and never before the wallet's last resume, so an owner who resumed a wallet
 * is not overruled by the very events they already looked at.
 */
import type { MonitorConfig } from '../config.ts';

export type MonitorRule =
  | 'repeated_refusals'
  | 'outside_hours'
  | 'spending_velocity'
  | 'enclave_restarts'
  | 'spend_bypassed_daemon';

export interface Alert {
  readonly rule: MonitorRule;
  readonly walletId: string;
  /** Facts for the owner: counts, thresholds, amounts (strings for base units). */
  readonly details: Record<string, string | number | string[]>;
}

export interface Refusal {
  readonly at: number;
  readonly code: string;
}

/** Refusals that do not count as the agent misbehaving: the wallet already stopped it. */
const NOT_COUNTED = new Set(['WALLET_FROZEN']);

const windowStart = (nowMs: number, seconds: number, lastResumeAt: number) =>
  Math.max(nowMs - seconds * 1000, lastResumeAt);

/** Repeated policy refusals, then refusals for being outside the policy's hours. */
export function refusalAlert(
  walletId: string,
  refusals: readonly Refusal[],
  lastResumeAt: number,
  nowMs: number,
  config: Pick<MonitorConfig, 'refusals' | 'outsideHours'>,
): Alert | undefined {
  const { refusals: many, outsideHours } = config;
  if (many.count > 0) {
    const since = windowStart(nowMs, many.seconds, lastResumeAt);
    const counted = refusals.filter((refusal) => refusal.at >= since && !NOT_COUNTED.has(refusal.code));
    if (counted.length >= many.count) {
      return {
        rule: 'repeated_refusals',
        walletId,
        details: {
          refusals: counted.length,
          threshold: many.count,
          windowSeconds: many.seconds,
          codes: [...new Set(counted.map((refusal) => refusal.code))].sort(),
        },
      };
    }
  }
  if (outsideHours.count > 0) {
    const since = windowStart(nowMs, outsideHours.seconds, lastResumeAt);
    const outside = refusals.filter((refusal) => refusal.at >= since && refusal.code === 'OUTSIDE_HOURS');
    if (outside.length >= outsideHours.count) {
      return {
        rule: 'outside_hours',
        walletId,
        details: {
          requests: outside.length,
          threshold: outsideHours.count,
          windowSeconds: outsideHours.seconds,
        },
      };
    }
  }
  return undefined;
}

/**
 * The tiers whose amounts count towards spending velocity: those signed at once, which the owner can
 * only see afterwards. A delay-tier transfer waits `delaySeconds` for the owner to cancel it (and the
 * owner is told at once), an approval-tier one for the owner's approval: each already waits for the
 * owner, and counting them would freeze a wallet for using the very tiers its owner chose (the starter
 * policy's 0.8 SOL delayed transfer alone is 40% of its daily budget).
 */
export const VELOCITY_TIERS = ['instant', 'notify'] as const;

/** Basis points of `percent`, so the comparison stays in integers. */
const basisPoints = (percent: number): bigint => BigInt(Math.round(percent * 100));

/** More than `percent` of an asset's daily budget spent (reserved) within the window, by VELOCITY_TIERS. */
export function velocityAlert(
  walletId: string,
  spent: ReadonlyMap<string, bigint>,
  daily: ReadonlyMap<string, bigint>,
  config: Pick<MonitorConfig, 'velocity'>,
): Alert | undefined {
  const { percent, seconds } = config.velocity;
  if (percent <= 0) return undefined;
  const bp = basisPoints(percent);
  for (const [asset, amount] of spent) {
    const budget = daily.get(asset);
    if (budget === undefined || budget <= 0n) continue;
    if (amount * 10_000n > budget * bp) {
      return {
        rule: 'spending_velocity',
        walletId,
        details: {
          asset,
          spent: amount.toString(),
          daily: budget.toString(),
          thresholdPercent: percent,
          windowSeconds: seconds,
        },
      };
    }
  }
  return undefined;
}

/** Enclave restarts after the wallet's last resume, within the window. */
export function restartAlert(
  walletId: string,
  restarts: readonly number[],
  lastResumeAt: number,
  nowMs: number,
  config: Pick<MonitorConfig, 'enclaveRestarts'>,
): Alert | undefined {
  const { count, seconds } = config.enclaveRestarts;
  if (count <= 0) return undefined;
  const since = windowStart(nowMs, seconds, lastResumeAt);
  const counted = restarts.filter((at) => at >= since).length;
  if (counted < count) return undefined;
  return {
    rule: 'enclave_restarts',
    walletId,
    details: { restarts: counted, threshold: count, windowSeconds: seconds },
  };
}

/**
 * The chain's limit spent more this period than the owner act that made it carried in plus what the
 * daemon sent since: a transfer signed with the agent key outside the daemon.
 */
export function bypassAlert(
  walletId: string,
  facts: { asset: string; chainSpent: bigint; carried: bigint; sent: bigint; periodStart: bigint },
): Alert | undefined {
  const underLimit = facts.chainSpent - facts.carried;
  if (underLimit <= facts.sent) return undefined;
  return {
    rule: 'spend_bypassed_daemon',
    walletId,
    details: {
      asset: facts.asset,
      spentOnChain: facts.chainSpent.toString(),
      carriedByOwnerActs: facts.carried.toString(),
      sentByDaemon: facts.sent.toString(),
      bypassed: (underLimit - facts.sent).toString(),
      periodStart: Number(facts.periodStart),
    },
  };
}
