import { sql } from 'kysely';
import type { Migration } from './migration.ts';

export const wallets: Migration = {
  version: 3,
  name: 'wallets, agent keys, sessions, transfers',
  async up(db) {
    await db.schema
      .createTable('wallets')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('owner_id', 'text', (column) => column.notNull().references('owners.id'))
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('multisig', 'text', (column) => column.notNull().unique())
      .addColumn('vault', 'text', (column) => column.notNull().unique())
      .addColumn('policy_bundle', 'text', (column) => column.notNull())
      .addColumn('policy_version', 'bigint', (column) => column.notNull())
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('updated_at', 'bigint', (column) => column.notNull())
      .execute();
    await db.schema.createIndex('wallets_owner').on('wallets').column('owner_id').execute();

    await db.schema
      .createTable('agent_keys')
      .addColumn('public_key', 'text', (column) => column.primaryKey())
      .addColumn('wallet_id', 'text', (column) => column.notNull().references('wallets.id'))
      .addColumn('sealed', 'text', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .execute();
    await db.schema.createIndex('agent_keys_wallet').on('agent_keys').column('wallet_id').execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('wallet_id', 'text', (column) => column.notNull().references('wallets.id'))
      .addColumn('token_hash', 'text', (column) => column.notNull().unique())
      .addColumn('label', 'text')
      .addColumn('expires_at', 'bigint', (column) => column.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .execute();

    await db.schema
      .createTable('transfers')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('wallet_id', 'text', (column) => column.notNull().references('wallets.id'))
      .addColumn('idempotency_key', 'text')
      .addColumn('request_hash', 'text', (column) => column.notNull())
      .addColumn('asset', 'text', (column) => column.notNull())
      .addColumn('amount', 'bigint', (column) => column.notNull())
      .addColumn('destination', 'text', (column) => column.notNull())
      .addColumn('memo', 'text')
      .addColumn('tier', 'text', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      // 1 while the amount counts against the daily budget (reserved or spent), 0 once released.
      .addColumn('counts_daily', 'bigint', (column) => column.notNull())
      .addColumn('counted_at', 'bigint', (column) => column.notNull())
      .addColumn('execute_after', 'bigint')
      .addColumn('expires_at', 'bigint')
      .addColumn('agent_public_key', 'text')
      .addColumn('signature', 'text')
      .addColumn('signed_transaction', 'text')
      .addColumn('last_valid_block_height', 'bigint')
      .addColumn('transaction_index', 'bigint')
      .addColumn('error_code', 'text')
      .addColumn('error_detail', 'text')
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', 'bigint')
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('updated_at', 'bigint', (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex('transfers_idempotency')
      .on('transfers')
      .columns(['wallet_id', 'idempotency_key'])
      .unique()
      .where(sql.ref('idempotency_key'), 'is not', null)
      .execute();
    await db.schema
      .createIndex('transfers_window')
      .on('transfers')
      .columns(['wallet_id', 'asset', 'counted_at'])
      .execute();
    await db.schema
      .createIndex('transfers_status')
      .on('transfers')
      .columns(['status', 'execute_after'])
      .execute();
    await db.schema
      .createIndex('transfers_wallet_created')
      .on('transfers')
      .columns(['wallet_id', 'created_at'])
      .execute();
  },
};
