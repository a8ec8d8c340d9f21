import { sql } from 'kysely';
import type { Migration } from './migration.ts';

export const ownerActs: Migration = {
  version: 5,
  name: 'owner acts',
  async up(db) {
    await db.schema
      .createTable('owner_acts')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('wallet_id', 'text', (column) => column.notNull().references('wallets.id'))
      .addColumn('kind', 'text', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('idempotency_key', 'text')
      .addColumn('request_hash', 'text')
      .addColumn('detail', 'text', (column) => column.notNull())
      .addColumn('signature', 'text')
      .addColumn('last_valid_block_height', 'bigint')
      .addColumn('error_code', 'text')
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('updated_at', 'bigint', (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex('owner_acts_wallet_kind')
      .on('owner_acts')
      .columns(['wallet_id', 'kind', 'created_at'])
      .execute();
    await db.schema
      .createIndex('owner_acts_idempotency')
      .on('owner_acts')
      .columns(['wallet_id', 'idempotency_key'])
      .unique()
      .where(sql.ref('idempotency_key'), 'is not', null)
      .execute();
  },
};
