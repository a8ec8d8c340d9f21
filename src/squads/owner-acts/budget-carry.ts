/**
 * Budget continuity across owner acts (DESIGN §3, §8). On the deployed program, removing and adding a
 * spending limit again starts a fresh period with the whole amount, so a naive resume, rotation or
 * policy change would hand a leaked agent key a new day each time. Two moves, both checked on the
 * deployed binary, keep the chain's budget continuous:
 *
 *   - carry: in the transaction that re-creates a limit (same create key, the owner among its
 *     members, the vault among its destinations when it has any), the owner uses the new limit from
 *     the vault to the vault itself for what was already spent this period. Nothing moves; the new
 *     limit's remaining amount is `amount − spent`, and its period starts at the re-creation (the
 *     next refill comes later than the old one would have: stricter, never looser).
 *   - pin: before a limit the owner is a member of is removed, the owner uses it vault-to-vault for
 *     exactly the remaining amount read a moment before. If a spend with a leaked agent key landed in
 *     between, the remaining amount is smaller, the use fails and so does the whole act: it is built
 *     again from a fresh read. The act thus carries exactly what the chain had spent.
 *
 * A use cannot move more than the vault holds, even to itself, so each is split into uses of at most
 * the vault's balance; when that would take more than MAX_SELF_USES uses (an empty vault), the pin is
 * left out and a limit that needs a carry is withheld (not re-created) until its period has passed.
 */
import type { PublicKey, TransactionInstruction } from '@solana/web3.js';
import type { TransferAsset } from '../assets.ts';
import { vaultAddress } from '../pdas.ts';
import { encodeSpendingLimitUse } from '../spending-limit-use.ts';
import { effectiveLimit, type SpendingLimitState } from '../wallet-state.ts';

/** A limit's budget as the chain holds it. */
export type LimitBudget = Pick<SpendingLimitState, 'amount' | 'remainingAmount' | 'lastReset' | 'period'>;

/**
 * What a period had spent of an asset, as an owner act recorded it just before it sent its
 * transaction (cluster seconds). The chain alone cannot say it in two cases: after the limit was
 * removed (a freeze), and after it was re-created with less than the period had spent (a tightening
 * below it: the chain can only show the new amount as all spent). Acts keep these records and hand
 * them back in, oldest first.
 */
export interface PeriodRecord {
  readonly spent: bigint;
  /** When the recorded period started: it ends one day later, as on chain. */
  readonly periodStart: bigint;
  /** The cluster time the act read the chain at and built its transaction. */
  readonly recordedAt: bigint;
}

const DAY_SECONDS = 86_400n;

/**
 * An act's transaction lands within its blockhash's life (about a minute) of the read it was built
 * from; a record taken longer before a limit's period began did not create that limit.
 */
export const MAX_ACT_SECONDS = 600n;

/** The record of the act that created `limit` (its period began then), if one is kept. */
const creatingRecord = (limit: LimitBudget, records: readonly PeriodRecord[]): PeriodRecord | undefined => {
  const creating = records.filter((record) => record.recordedAt <= limit.lastReset).at(-1);
  return creating !== undefined && creating.recordedAt + MAX_ACT_SECONDS >= limit.lastReset
    ? creating
    : undefined;
};

/** The smaller of two amounts (Math.min takes no bigints). */
export function atMost(amount: bigint, cap: bigint): bigint {
  if (amount < cap) return amount;
  return cap;
}

/**
 * How much of what the chain shows spent in `limit`'s current period the owner act that created it
 * carried in (its own vault-to-vault uses): the rest was spent under the limit since. Zero once that
 * period has passed, or when no act carried anything into it.
 */
export function carriedIntoPeriod(
  limit: LimitBudget,
  records: readonly PeriodRecord[],
  nowUnix: bigint,
): bigint {
  if (effectiveLimit(limit, nowUnix).periodStart !== limit.lastReset) return 0n;
  const creating = creatingRecord(limit, records);
  return creating === undefined ? 0n : atMost(creating.spent, limit.amount);
}

/** Most owner self-uses one limit may take in an act (each is about 40 bytes and 20k compute units). */
export const MAX_SELF_USES = 4;

/** What the chain's period in force at `nowUnix` has spent of `limit` (a period that has passed spent nothing). */
export function spentInPeriod(limit: LimitBudget, nowUnix: bigint): bigint {
  const { remaining } = effectiveLimit(limit, nowUnix);
  return remaining >= limit.amount ? 0n : limit.amount - remaining;
}

/** What `limit` still allows at `nowUnix`. */
export const remainingInPeriod = (limit: LimitBudget, nowUnix: bigint): bigint =>
  effectiveLimit(limit, nowUnix).remaining;

/**
 * What the current period has spent of an asset at `nowUnix`, and when that period started:
 *   - with the agent's limit on chain: what the chain shows, plus what the act that created the
 *     limit carried beyond its amount (the last record taken at or before the limit's period began),
 *     as long as that period lasts;
 *   - with none (removed by an act): the last record, while its period lasts.
 */
export function spentThisPeriod(
  limit: LimitBudget | undefined,
  records: readonly PeriodRecord[],
  nowUnix: bigint,
): { spent: bigint; periodStart: bigint } {
  if (limit !== undefined) {
    const { periodStart } = effectiveLimit(limit, nowUnix);
    const spent = spentInPeriod(limit, nowUnix);
    if (periodStart !== limit.lastReset) return { spent, periodStart };
    const creating = creatingRecord(limit, records);
    const beyond =
      creating === undefined || creating.spent <= limit.amount ? 0n : creating.spent - limit.amount;
    return { spent: spent + beyond, periodStart };
  }
  const last = records.at(-1);
  // Nothing spent in a period in force: a period starting now is as good as any.
  if (last === undefined || nowUnix > last.periodStart + DAY_SECONDS)
    return { spent: 0n, periodStart: nowUnix };
  return { spent: last.spent, periodStart: last.periodStart };
}

/**
 * The owner's uses of `spendingLimit` from the vault to the vault, `amount` in total, none larger than
 * the vault's balance of the asset; undefined when that takes more than `maxUses` uses.
 */
export function vaultSelfUses(params: {
  readonly multisig: PublicKey;
  readonly owner: PublicKey;
  readonly spendingLimit: PublicKey;
  readonly asset: TransferAsset;
  readonly amount: bigint;
  readonly vaultBalance: bigint;
  readonly maxUses?: number;
}): TransactionInstruction[] | undefined {
  if (params.amount <= 0n) return [];
  if (params.vaultBalance <= 0n) return undefined;
  const each = atMost(params.amount, params.vaultBalance);
  const uses = (params.amount + each - 1n) / each;
  if (uses > BigInt(params.maxUses ?? MAX_SELF_USES)) return undefined;
  const vault = vaultAddress(params.multisig);
  const instructions: TransactionInstruction[] = [];
  for (let left = params.amount; left > 0n; left -= atMost(each, left)) {
    instructions.push(
      encodeSpendingLimitUse({
        multisig: params.multisig,
        member: params.owner,
        spendingLimit: params.spendingLimit,
        asset: params.asset,
        amount: atMost(each, left),
        destination: vault,
      }),
    );
  }
  return instructions;
}
