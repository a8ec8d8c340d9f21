import type { Migration } from './migration.ts';

export const enclaveInstances: Migration = {
  version: 15,
  name: 'enclave instances and wallet assignments',
  async up(db) {
    // Every enclave instance a replica runs, where any replica can reach it, and when it was last seen up.
    await db.schema
      .createTable('enclave_instances')
      .addColumn('id', 'text', (column) => column.primaryKey())
      // A Unix socket path on this host (process mode), or the parent's bridge socket (Nitro).
      .addColumn('endpoint', 'text', (column) => column.notNull())
      // PEM of the development attestation root (process mode); null: the configured root (Nitro).
      .addColumn('attestation_root', 'text')
      .addColumn('heartbeat_at', 'bigint', (column) => column.notNull())
      .addColumn('started_at', 'bigint', (column) => column.notNull())
      .execute();
    // Which instance serves each wallet: exactly one at a time, so its L2 counters are the only ones.
    await db.schema
      .createTable('wallet_assignments')
      .addColumn('wallet_id', 'text', (column) => column.primaryKey())
      .addColumn('instance_id', 'text', (column) => column.notNull())
      .addColumn('assigned_at', 'bigint', (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex('wallet_assignments_by_instance')
      .on('wallet_assignments')
      .columns(['instance_id'])
      .execute();
  },
};
