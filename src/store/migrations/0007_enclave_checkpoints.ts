import type { Migration } from './migration.ts';

export const enclaveCheckpoints: Migration = {
  version: 7,
  name: 'enclave checkpoints',
  async up(db) {
    // One row per wallet: the newest checkpoint its enclave sealed (its L2 state, opaque to the daemon).
    await db.schema
      .createTable('enclave_checkpoints')
      .addColumn('wallet_id', 'text', (column) => column.primaryKey())
      .addColumn('sequence', 'bigint', (column) => column.notNull())
      .addColumn('policy_version', 'bigint')
      .addColumn('sealed', 'text', (column) => column.notNull())
      .addColumn('updated_at', 'bigint', (column) => column.notNull())
      .execute();
  },
};
