import type { Migration } from './migration.ts';

export const owners: Migration = {
  version: 2,
  name: 'owners',
  async up(db) {
    await db.schema
      .createTable('owners')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('signer_kind', 'text', (column) => column.notNull())
      // How to reach the key (keystore path, or KMS region/key id/endpoint/MFA device): no secret.
      .addColumn('signer_config', 'text', (column) => column.notNull())
      .addColumn('public_key', 'text', (column) => column.notNull().unique())
      .addColumn('token_hash', 'text', (column) => column.notNull().unique())
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .execute();
  },
};
