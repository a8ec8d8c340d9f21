/**
 * The lease rows behind src/daemon/locks/multisig-locks.ts: one per wallet whose multisig someone is
 * changing. Every statement is a single conditional write, so two replicas can never both believe
 * they hold a wallet (no read-then-write).
 */
import type { Kysely } from 'kysely';
import type { Database, Int8 } from './schema.ts';

export interface MultisigLocksTable {
  wallet_id: string;
  holder: string;
  until_ms: Int8;
  wanted_by: string | null;
  wanted_at: Int8 | null;
}

declare module './schema.ts' {
  interface Database {
    multisig_locks: MultisigLocksTable;
  }
}

/**
 * Takes the wallet's lease for `holder` until `untilMs` when it is free, expired at `nowMs`, or
 * already `holder`'s. True when `holder` holds it now.
 */
export const takeMultisigLease = async (
  db: Kysely<Database>,
  walletId: string,
  holder: string,
  nowMs: number,
  untilMs: number,
): Promise<boolean> => {
  const row = await db
    .insertInto('multisig_locks')
    .values({ wallet_id: walletId, holder, until_ms: BigInt(untilMs) })
    .onConflict((conflict) =>
      conflict
        .column('wallet_id')
        .doUpdateSet({ holder, until_ms: BigInt(untilMs), wanted_by: null, wanted_at: null })
        .where((eb) =>
          eb.or([
            eb('multisig_locks.until_ms', '<', BigInt(nowMs)),
            eb('multisig_locks.holder', '=', holder),
          ]),
        ),
    )
    .returning('holder')
    .executeTakeFirst();
  return row !== undefined;
};

/** Moves the lease's end to `untilMs` while `holder` still has it; false when it was taken over. */
export const renewMultisigLease = async (
  db: Kysely<Database>,
  walletId: string,
  holder: string,
  untilMs: number,
): Promise<boolean> => {
  const result = await db
    .updateTable('multisig_locks')
    .set({ until_ms: BigInt(untilMs) })
    .where('wallet_id', '=', walletId)
    .where('holder', '=', holder)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
};

/** Says `holder` is waiting for a lease someone else has (the last to ask is the one handed it). */
export const wantMultisigLease = async (
  db: Kysely<Database>,
  walletId: string,
  holder: string,
  nowMs: number,
): Promise<void> => {
  await db
    .updateTable('multisig_locks')
    .set({ wanted_by: holder, wanted_at: BigInt(nowMs) })
    .where('wallet_id', '=', walletId)
    .where('holder', '<>', holder)
    .execute();
};

/**
 * Gives the lease back (only `holder`'s own: one taken over after expiry stays with its new holder).
 * When another holder asked for it since `askedSinceMs`, the lease becomes that holder's until
 * `handOverUntilMs` (short: if it gave up meanwhile, the lease runs out soon); otherwise it is freed.
 */
export const releaseMultisigLease = async (
  db: Kysely<Database>,
  walletId: string,
  holder: string,
  askedSinceMs: number,
  handOverUntilMs: number,
): Promise<void> => {
  const handed = await db
    .updateTable('multisig_locks')
    .set((eb) => ({
      holder: eb.ref('wanted_by').$notNull(),
      until_ms: BigInt(handOverUntilMs),
      wanted_by: null,
      wanted_at: null,
    }))
    .where('wallet_id', '=', walletId)
    .where('holder', '=', holder)
    .where('wanted_by', 'is not', null)
    .where('wanted_at', '>=', BigInt(askedSinceMs))
    .executeTakeFirst();
  if (handed.numUpdatedRows > 0n) return;
  await db
    .deleteFrom('multisig_locks')
    .where('wallet_id', '=', walletId)
    .where('holder', '=', holder)
    .execute();
};

/** Who holds the wallet's lease and until when (tests, diagnostics). */
export const readMultisigLease = async (
  db: Kysely<Database>,
  walletId: string,
): Promise<{ holder: string; untilMs: number; wantedBy: string | null } | undefined> => {
  const row = await db
    .selectFrom('multisig_locks')
    .select(['holder', 'until_ms', 'wanted_by'])
    .where('wallet_id', '=', walletId)
    .executeTakeFirst();
  return row && { holder: row.holder, untilMs: Number(row.until_ms), wantedBy: row.wanted_by };
};
