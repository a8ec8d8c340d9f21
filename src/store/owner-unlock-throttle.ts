/**
 * Wrong owner second factors, per owner: how many attempts were counted since the last success and
 * until when no attempt is checked. The rules (how long to wait) live in
 * src/daemon/runtime/unlock-throttle.ts; this file reads and writes the row, under the caller's
 * write transaction (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so replicas agree.
 */
import type { Kysely } from 'kysely';
import type { StoreEngine } from './engine.ts';
import type { Database, Int8 } from './schema.ts';

export interface OwnerUnlockThrottleTable {
  owner_id: string;
  failures: Int8;
  last_attempt_at: Int8;
  locked_until: Int8;
}

declare module './schema.ts' {
  interface Database {
    owner_unlock_throttle: OwnerUnlockThrottleTable;
  }
}

export interface UnlockThrottleState {
  readonly failures: number;
  readonly lastAttemptAt: number;
  readonly lockedUntil: number;
}

export const lockUnlockThrottle = async (
  trx: Kysely<Database>,
  engine: StoreEngine,
  ownerId: string,
): Promise<UnlockThrottleState | undefined> => {
  let query = trx.selectFrom('owner_unlock_throttle').selectAll().where('owner_id', '=', ownerId);
  if (engine === 'postgres') {
    // FOR UPDATE locks nothing while the row does not exist, and two first guesses would both count
    // from zero: an empty row is made first (a concurrent insert waits on the key), then locked.
    await trx
      .insertInto('owner_unlock_throttle')
      .values({ owner_id: ownerId, failures: 0n, last_attempt_at: 0n, locked_until: 0n })
      .onConflict((conflict) => conflict.column('owner_id').doNothing())
      .execute();
    query = query.forUpdate();
  }
  const row = await query.executeTakeFirst();
  return (
    row && {
      failures: Number(row.failures),
      lastAttemptAt: Number(row.last_attempt_at),
      lockedUntil: Number(row.locked_until),
    }
  );
};

export const saveUnlockThrottle = async (
  trx: Kysely<Database>,
  ownerId: string,
  state: UnlockThrottleState,
): Promise<void> => {
  const values = {
    failures: BigInt(state.failures),
    last_attempt_at: BigInt(state.lastAttemptAt),
    locked_until: BigInt(state.lockedUntil),
  };
  await trx
    .insertInto('owner_unlock_throttle')
    .values({ owner_id: ownerId, ...values })
    .onConflict((conflict) => conflict.column('owner_id').doUpdateSet(values))
    .execute();
};

export const clearUnlockThrottle = async (db: Kysely<Database>, ownerId: string): Promise<void> => {
  await db.deleteFrom('owner_unlock_throttle').where('owner_id', '=', ownerId).execute();
};
