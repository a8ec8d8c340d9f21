import { sql } from 'kysely';
import type { Migration } from './migration.ts';

/**
 * The transfer pipeline's needs beyond 0003: where an approval-tier transfer's proposal landed, a
 * covering index for the daily-window sum the reservation runs on every transfer (so it never reads
 * table rows), an index for finding abandoned work by lease, and one signature per transfer: two
 * transfers whose transactions came out byte for byte alike would share one landing on chain, so the
 * second must be told apart before it is sent.
 */
export const transferPipeline: Migration = {
  version: 4,
  name: 'transfer pipeline: proposal signature, window and lease indexes',
  async up(db) {
    await db.schema.alterTable('transfers').addColumn('proposal_signature', 'text').execute();
    // Superseded by transfers_daily_window, which also covers counts_daily and amount.
    await db.schema.dropIndex('transfers_window').execute();
    await db.schema
      .createIndex('transfers_daily_window')
      .on('transfers')
      .columns(['wallet_id', 'asset', 'counts_daily', 'counted_at', 'amount'])
      .execute();
    await db.schema
      .createIndex('transfers_lease')
      .on('transfers')
      .columns(['status', 'claimed_until'])
      .execute();
    await db.schema
      .createIndex('transfers_signature')
      .on('transfers')
      .column('signature')
      .unique()
      .where(sql.ref('signature'), 'is not', null)
      .execute();
  },
};
