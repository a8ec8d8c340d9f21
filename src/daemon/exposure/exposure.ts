/**
 * A wallet's exposure: the most it can lose right now if every off-chain part (daemon, enclave,
 * database, agent) were compromised. Only the on-chain spending limits let funds leave the vault
 * without the owner's signature, so that is what each limit still allows in its current period
 * (capped by what the vault holds), and per day what its amount allows again and again.
 * A frozen wallet has no limits on chain, so its exposure is zero.
 */
import { isWaiaasError } from '../../core/errors.ts';
import type { SpendingLimitState } from '../../squads/index.ts';
import { effectiveLimit } from '../../squads/wallet-state.ts';
import type { Wallet } from '../../store/index.ts';
import { assetLabel, type ChainSnapshot, type ChainSnapshots } from './chain-snapshot.ts';

export type LimitPeriod = 'once' | 'day' | 'week' | 'month';

const PERIODS: Record<number, LimitPeriod> = { 0: 'once', 1: 'day', 2: 'week', 3: 'month' };
const PERIOD_SECONDS: Record<LimitPeriod, bigint | null> = {
  once: null,
  day: 86_400n,
  week: 7n * 86_400n,
  month: 30n * 86_400n,
};

export interface LimitExposure {
  readonly address: string;
  readonly asset: string;
  readonly period: LimitPeriod;
  /** The limit's amount per period. */
  readonly amount: string;
  /** What it still lets out in the current period (the program's reset already applied). */
  readonly remaining: string;
  /** Unix seconds (cluster clock) the current period started, and when the next one starts. */
  readonly periodStart: number;
  readonly nextResetAt: number | null;
  /** Keys that may use it: each of them alone can move `remaining` to its destinations. */
  readonly members: string[];
  /** Empty: any destination. */
  readonly destinations: string[];
}

export interface AssetExposure {
  /** "SOL" or the mint. */
  readonly asset: string;
  /** Sum over the asset's limits of what they still allow now. */
  readonly remaining: string;
  /** What the vault holds of it; null when unknown. */
  readonly balance: string | null;
  /** What could leave right now: the remaining amount, capped by the balance when it is known. */
  readonly atRisk: string;
  /** The most that could leave within any one day: each limit's amount (a one-time limit's remainder). */
  readonly perDay: string;
}

export interface WalletExposure {
  /** Cluster unix time the figures are computed at; null when the clock could not be read. */
  readonly chainTime: number | null;
  /** When the chain was read (the figures are cached for about a second). */
  readonly readAt: string | null;
  readonly assets: AssetExposure[];
  readonly limits: LimitExposure[];
  /** Set when the chain could not be read: the figures are then unknown, not zero. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** The cluster's time now, from a snapshot read a moment ago. */
export const chainNow = (snapshot: ChainSnapshot, nowMs: number): bigint | null =>
  snapshot.chainTime === null
    ? null
    : snapshot.chainTime + BigInt(Math.max(0, Math.floor((nowMs - snapshot.readAtMs) / 1000)));

/** What `limit` still allows at `now` (cluster seconds), with its period boundaries. */
export function limitNow(limit: SpendingLimitState, now: bigint | null) {
  const period = PERIODS[limit.period] ?? 'once';
  const effective =
    now === null
      ? { remaining: limit.remainingAmount, periodStart: limit.lastReset }
      : effectiveLimit(limit, now);
  const length = PERIOD_SECONDS[period];
  return {
    period,
    remaining: effective.remaining,
    periodStart: effective.periodStart,
    nextResetAt: length === null ? null : effective.periodStart + length,
  };
}

export function exposureOf(snapshot: ChainSnapshot, nowMs: number): WalletExposure {
  const now = chainNow(snapshot, nowMs);
  const limits = snapshot.limits.map((limit): LimitExposure => {
    const current = limitNow(limit, now);
    return {
      address: limit.address.toBase58(),
      asset: assetLabel(limit),
      period: current.period,
      amount: limit.amount.toString(),
      remaining: current.remaining.toString(),
      periodStart: Number(current.periodStart),
      nextResetAt: current.nextResetAt === null ? null : Number(current.nextResetAt),
      members: limit.members.map((member) => member.toBase58()),
      destinations: limit.destinations.map((destination) => destination.toBase58()),
    };
  });
  const byAsset = new Map<string, { remaining: bigint; perDay: bigint }>();
  for (const limit of limits) {
    const sums = byAsset.get(limit.asset) ?? { remaining: 0n, perDay: 0n };
    sums.remaining += BigInt(limit.remaining);
    sums.perDay += limit.period === 'once' ? BigInt(limit.remaining) : BigInt(limit.amount);
    byAsset.set(limit.asset, sums);
  }
  const assets = [...byAsset.entries()]
    .sort(([a], [b]) => (a === 'SOL' ? -1 : b === 'SOL' ? 1 : a.localeCompare(b)))
    .map(([asset, sums]): AssetExposure => {
      const balance = snapshot.balances.get(asset) ?? null;
      const atRisk = balance !== null && balance < sums.remaining ? balance : sums.remaining;
      return {
        asset,
        remaining: sums.remaining.toString(),
        balance: balance === null ? null : balance.toString(),
        atRisk: atRisk.toString(),
        perDay: sums.perDay.toString(),
      };
    });
  return {
    chainTime: now === null ? null : Number(now),
    readAt: new Date(snapshot.readAtMs).toISOString(),
    assets,
    limits,
  };
}

/** The wallet's exposure now; on a chain failure the figures are marked unknown rather than thrown. */
export async function readWalletExposure(
  snapshots: ChainSnapshots,
  wallet: Pick<Wallet, 'multisig' | 'updatedAt'>,
  nowMs = Date.now(),
): Promise<WalletExposure> {
  try {
    return exposureOf(await snapshots.read(wallet.multisig, wallet.updatedAt.toString()), nowMs);
  } catch (error) {
    return {
      chainTime: null,
      readAt: null,
      assets: [],
      limits: [],
      error: isWaiaasError(error)
        ? { code: error.code, message: error.message }
        : { code: 'INTERNAL', message: 'Internal error' },
    };
  }
}
