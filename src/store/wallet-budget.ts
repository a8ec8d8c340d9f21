/**
 * The daily budget as the server counts it: sums over the transfers table per asset, and the one
 * correction owner acts make to it. Money is bigint end to end.
 */
import { type Kysely, sql } from 'kysely';
import type { Database, TransferStatus, TransfersTable } from './schema.ts';

const sumPerAsset = (rows: readonly { asset: string; spent: string | bigint }[]): Map<string, bigint> =>
  new Map(rows.map((row) => [row.asset, BigInt(row.spent)]));

/** Per asset, what counts against the daily budget (reserved or spent) since `sinceMs` (counted_at). */
export const countedSpentSince = async (
  db: Kysely<Database>,
  walletId: string,
  sinceMs: bigint,
): Promise<Map<string, bigint>> =>
  sumPerAsset(
    await db
      .selectFrom('transfers')
      .select(['asset', sql<string | bigint>`cast(sum(amount) as bigint)`.as('spent')])
      .where('wallet_id', '=', walletId)
      .where('counts_daily', '=', 1n)
      .where('counted_at', '>=', sinceMs)
      .groupBy('asset')
      .execute(),
  );

/**
 * Per asset, what transfers requested since `sinceMs` (created_at) reserve or spent: the pace of new
 * spending, unmoved by owner acts that count older transfers again (holdCountedSpends).
 */
export const requestedSpentSince = async (
  db: Kysely<Database>,
  walletId: string,
  sinceMs: bigint,
  tiers?: readonly TransfersTable['tier'][],
): Promise<Map<string, bigint>> =>
  sumPerAsset(
    await db
      .selectFrom('transfers')
      .select(['asset', sql<string | bigint>`cast(sum(amount) as bigint)`.as('spent')])
      .where('wallet_id', '=', walletId)
      .where('counts_daily', '=', 1n)
      .where('created_at', '>=', sinceMs)
      .$if(tiers !== undefined, (query) => query.where('tier', 'in', [...tiers!]))
      .groupBy('asset')
      .execute(),
  );

/**
 * An owner act re-created the chain's limit for `asset`, carrying the spending of the period that
 * began at `sinceMs` into a new period that begins now: the transfers counted since then count again
 * from `nowMs`, so the server's rolling window (one day and a margin) holds them at least as long as
 * the chain does. Returns how many transfers now count from `nowMs`.
 */
export const holdCountedSpends = async (
  db: Kysely<Database>,
  walletId: string,
  asset: string,
  sinceMs: bigint,
  nowMs: bigint,
): Promise<number> => {
  const result = await db
    .updateTable('transfers')
    .set({ counted_at: nowMs })
    .where('wallet_id', '=', walletId)
    .where('asset', '=', asset)
    .where('counts_daily', '=', 1n)
    .where('counted_at', '>=', sinceMs)
    .where('counted_at', '<', nowMs)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
};

const IN_FLIGHT: readonly TransferStatus[] = ['signing', 'submitted'];

/**
 * What the daemon itself sent of `asset` under the wallet's spending limit that may have landed since
 * `sinceMs`: transfers in flight, and those confirmed since then. The chain showing more spent than
 * this means a spend the daemon did not make.
 */
export const sentUnderLimitSince = async (
  db: Kysely<Database>,
  walletId: string,
  asset: string,
  sinceMs: bigint,
): Promise<bigint> => {
  const row = await db
    .selectFrom('transfers')
    .select(sql<string | bigint | null>`cast(coalesce(sum(amount), 0) as bigint)`.as('sent'))
    .where('wallet_id', '=', walletId)
    .where('asset', '=', asset)
    .where('counts_daily', '=', 1n)
    .where((eb) =>
      eb.or([
        eb('status', 'in', [...IN_FLIGHT]),
        eb.and([eb('status', '=', 'confirmed'), eb('updated_at', '>=', sinceMs)]),
      ]),
    )
    .executeTakeFirst();
  return BigInt(row?.sent ?? 0);
};
