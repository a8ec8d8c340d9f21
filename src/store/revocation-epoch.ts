/**
 * The revocation epoch: one row that triggers (migration 0013) bump in the same transaction as any
 * revocation, deletion or change of a session, operator token or owner. A replica may keep a principal
 * it resolved at epoch E for as long as the epoch still reads E.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';

// Prepared once: compiling a query builder would cost more than the read itself.
const READ_EPOCH = sql<{ value: bigint | string }>`select value from revocation_epoch where id = 'auth'`;

export const readRevocationEpoch = async (db: Kysely<Database>): Promise<bigint> => {
  const { rows } = await READ_EPOCH.execute(db);
  return BigInt(rows[0]?.value ?? -1);
};
