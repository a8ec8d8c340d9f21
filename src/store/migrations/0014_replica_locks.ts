import { sql } from 'kysely';
import type { Migration } from './migration.ts';

/**
 * What replicas must agree on that no single row of ours already orders:
 * - multisig_locks: who may put the next Squads transaction on a wallet's multisig (an approval's
 *   vault transaction takes the multisig's next index; an owner act changes its members and limits).
 *   A lease, not a lock held by a connection, so it works the same on SQLite and PostgreSQL and a
 *   dead holder's claim simply runs out (src/daemon/locks/multisig-locks.ts says why).
 * - rate_limit_windows: requests counted per token or address in its current window, so N replicas
 *   on one PostgreSQL enforce one limit (src/daemon/plugins/rate-limit.ts).
 */
export const replicaLocks: Migration = {
  version: 14,
  name: 'multisig locks, shared rate limit windows',
  async up(db, engine) {
    await db.schema
      .createTable('multisig_locks')
      .addColumn('wallet_id', 'text', (column) => column.primaryKey())
      // The replica id and a per-process suffix: a restarted process never mistakes an old lease for its own.
      .addColumn('holder', 'text', (column) => column.notNull())
      // Epoch ms; past it anyone may take the lease over.
      .addColumn('until_ms', 'bigint', (column) => column.notNull())
      // Another holder waiting for it, and when it last asked: the holder hands the lease over to it
      // on release instead of taking it again for its own next request (fairness between replicas).
      .addColumn('wanted_by', 'text')
      .addColumn('wanted_at', 'bigint')
      .execute();
    // UNLOGGED on PostgreSQL: a count written without WAL costs no flush per request (the flush was
    // most of the limiter's cost: bench/rate-limit.ts), and losing the counts in a crash or a failover
    // only resets windows of at most a minute.
    await sql
      .raw(
        `create ${engine === 'postgres' ? 'unlogged ' : ''}table rate_limit_windows (
           key text primary key,
           window_start bigint not null,
           count bigint not null
         )`,
      )
      .execute(db);
    // Keys are 't:' + a token's hash or 'i:' + a client address (never a token); a window begins with
    // the key's first request after the previous one ended (epoch ms). Pruning deletes ended windows across all keys.
    await db.schema
      .createIndex('rate_limit_windows_start')
      .on('rate_limit_windows')
      .column('window_start')
      .execute();
  },
};
