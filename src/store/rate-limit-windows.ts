/**
 * Request counts shared by every replica on one PostgreSQL (src/daemon/plugins/rate-limit-shared.ts).
 * A key's window starts with its first request after the previous window ended and allows `max`
 * requests; each request is one statement that both checks and counts, so two replicas can never
 * both let the last allowed request through. PostgreSQL only: on SQLite the daemon is one process per
 * machine and counts in memory.
 */
import { type Kysely, sql } from 'kysely';
import type { Database, Int8 } from './schema.ts';

export interface RateLimitWindowsTable {
  key: string;
  window_start: Int8;
  count: Int8;
}

declare module './schema.ts' {
  interface Database {
    rate_limit_windows: RateLimitWindowsTable;
  }
}

export interface WindowLimit {
  readonly max: number;
  readonly windowMs: number;
}

export type WindowTake =
  | { readonly allowed: true }
  /** `gate`: refused because the gate key's window is full, not this key's. */
  | { readonly allowed: false; readonly by: 'key' | 'gate'; readonly windowEndsMs: number };

const toNumber = (value: unknown): number | undefined =>
  value === null || value === undefined ? undefined : Number(value);

/**
 * Counts one request against `key` unless its window is full, or unless `gate`'s window is full
 * (then nothing is counted). One round trip; the refusal says when the full window ends.
 */
export const takeWindowed = async (
  db: Kysely<Database>,
  nowMs: number,
  key: string,
  limit: WindowLimit,
  gate?: { readonly key: string; readonly limit: WindowLimit },
): Promise<WindowTake> => {
  const now = BigInt(nowMs);
  const ended = now - BigInt(limit.windowMs);
  // A refusal leaves the rows as they were, so the outer select's snapshot (taken before the insert)
  // still shows the window that refused.
  const { rows } = await sql<{ count: unknown; gate_start: unknown; start: unknown }>`
    with gate as (
      select window_start from rate_limit_windows
      where key = cast(${gate?.key ?? null} as text)
        and window_start > cast(${now - BigInt(gate?.limit.windowMs ?? 0)} as bigint)
        and count >= cast(${gate?.limit.max ?? 0} as bigint)
    ), taken as (
      insert into rate_limit_windows as w (key, window_start, count)
      select cast(${key} as text), cast(${now} as bigint), cast(1 as bigint) where not exists (select 1 from gate)
      on conflict (key) do update set
        window_start = case when w.window_start <= ${ended} then excluded.window_start else w.window_start end,
        count = case when w.window_start <= ${ended} then 1 else w.count + 1 end
      where w.window_start <= ${ended} or w.count < ${limit.max}
      returning count
    )
    select (select count from taken) as count,
           (select window_start from gate) as gate_start,
           (select window_start from rate_limit_windows where key = ${key}) as start`.execute(db);
  const row = rows[0];
  if (toNumber(row?.count) !== undefined) return { allowed: true };
  const gateStart = toNumber(row?.gate_start);
  if (gateStart !== undefined && gate)
    return { allowed: false, by: 'gate', windowEndsMs: gateStart + gate.limit.windowMs };
  return { allowed: false, by: 'key', windowEndsMs: (toNumber(row?.start) ?? nowMs) + limit.windowMs };
};

/** When `key`'s window is full: the time it ends; undefined while requests are still allowed. */
export const fullWindowEnd = async (
  db: Kysely<Database>,
  nowMs: number,
  key: string,
  limit: WindowLimit,
): Promise<number | undefined> => {
  const { rows } = await sql<{ window_start: unknown }>`
    select window_start from rate_limit_windows
    where key = ${key} and window_start > ${BigInt(nowMs - limit.windowMs)} and count >= ${limit.max}`.execute(
    db,
  );
  const start = toNumber(rows[0]?.window_start);
  return start === undefined ? undefined : start + limit.windowMs;
};

/** Counts a request already answered (a 401): never refuses, so the count may pass `max`. */
export const chargeWindowed = async (
  db: Kysely<Database>,
  nowMs: number,
  key: string,
  limit: WindowLimit,
): Promise<void> => {
  const now = BigInt(nowMs);
  const ended = now - BigInt(limit.windowMs);
  await sql`
    insert into rate_limit_windows as w (key, window_start, count) values (${key}, ${now}, 1)
    on conflict (key) do update set
      window_start = case when w.window_start <= ${ended} then excluded.window_start else w.window_start end,
      count = case when w.window_start <= ${ended} then 1 else w.count + 1 end`.execute(db);
};

/** Forgets windows that began before `beforeMs` (they have ended: forgetting them changes nothing). */
export const pruneWindows = async (db: Kysely<Database>, beforeMs: number): Promise<number> => {
  const result = await sql`delete from rate_limit_windows where window_start < ${BigInt(beforeMs)}`.execute(
    db,
  );
  return Number(result.numAffectedRows ?? 0n);
};
