/**
 * What counts against a wallet's windows, read from the buckets the transfers table's triggers keep
 * (migration 0013): at most one window of buckets per read, however many transfers the wallet has.
 *
 * A bucket counts while any millisecond of it is inside the window, so the sums can only come out
 * higher than the rows' (stricter), never lower: a spend keeps counting up to one bucket (5 min) past
 * the 24 h 10 min window, a transfer up to 10 s past the rate hour — the enclave's own buckets.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';
import type { WindowUsage } from './transfers.ts';

/** Must match the triggers of migration 0013 (test/store/window-buckets.test.ts compares with the rows). */
export const SPEND_BUCKET_MS = 300_000n;
export const RATE_BUCKET_MS = 10_000n;

/**
 * One round trip for both counters. Inside a reservation's write transaction (the wallet locked) it is
 * exact up to the bucket rounding above: the buckets change in the same transactions as the rows.
 */
export const readWindowUsage = async (
  db: Kysely<Database>,
  walletId: string,
  asset: string,
  dailySinceMs: bigint,
  rateSinceMs: bigint,
): Promise<WindowUsage> => {
  const { rows } = await sql<{ spent: bigint | string | null; recent: bigint | string | null }>`
    select
      (select cast(coalesce(sum(amount), 0) as bigint) from spend_window_buckets
        where wallet_id = ${walletId} and asset = ${asset} and bucket_start > ${dailySinceMs - SPEND_BUCKET_MS}) as spent,
      (select cast(coalesce(sum(transfers), 0) as bigint) from rate_window_buckets
        where wallet_id = ${walletId} and bucket_start > ${rateSinceMs - RATE_BUCKET_MS}) as recent`.execute(
    db,
  );
  const row = rows[0];
  return {
    spentInWindow: BigInt(row?.spent ?? 0),
    transfersInRateWindow: Number(row?.recent ?? 0),
  };
};
