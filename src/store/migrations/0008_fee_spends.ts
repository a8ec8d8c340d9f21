import type { Migration } from './migration.ts';

/**
 * What the fee payer spends for each wallet's agent beyond transaction fees: rent of recipients' new
 * token accounts (gone for good) and of approval requests (returned when their accounts are closed,
 * `closed_at`). Both count against the policy's daily fee budget; open approval requests against its
 * bound on them.
 */
export const feeSpends: Migration = {
  version: 8,
  name: 'fee spends',
  async up(db) {
    await db.schema
      .createTable('fee_spends')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('wallet_id', 'text', (column) => column.notNull().references('wallets.id'))
      .addColumn('transfer_id', 'text', (column) => column.notNull())
      .addColumn('kind', 'text', (column) => column.notNull())
      .addColumn('lamports', 'bigint', (column) => column.notNull())
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('closed_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('fee_spends_transfer_kind')
      .on('fee_spends')
      .columns(['transfer_id', 'kind'])
      .unique()
      .execute();
    await db.schema
      .createIndex('fee_spends_wallet_created')
      .on('fee_spends')
      .columns(['wallet_id', 'created_at'])
      .execute();
  },
};
