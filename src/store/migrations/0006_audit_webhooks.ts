import type { Migration } from './migration.ts';

/** The hash the first audit entry chains from: 32 zero bytes, hex. */
const GENESIS_HASH = '0'.repeat(64);

export const auditWebhooks: Migration = {
  version: 6,
  name: 'audit log, webhooks, webhook outbox',
  async up(db) {
    // No foreign keys: an audit entry must outlive (and never block on) the rows it mentions.
    await db.schema
      .createTable('audit_log')
      .addColumn('sequence', 'bigint', (column) => column.primaryKey())
      .addColumn('at', 'bigint', (column) => column.notNull())
      .addColumn('kind', 'text', (column) => column.notNull())
      .addColumn('actor_role', 'text', (column) => column.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('owner_id', 'text')
      .addColumn('wallet_id', 'text')
      .addColumn('subject', 'text')
      .addColumn('details', 'text', (column) => column.notNull())
      .addColumn('prev_hash', 'text', (column) => column.notNull())
      .addColumn('hash', 'text', (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex('audit_log_wallet')
      .on('audit_log')
      .columns(['wallet_id', 'sequence'])
      .execute();
    await db.schema
      .createIndex('audit_log_owner')
      .on('audit_log')
      .columns(['owner_id', 'sequence'])
      .execute();

    // One row: the last sequence and hash. Appenders lock it, which serialises appends across replicas,
    // and verification compares the chain's end with it, which detects a deleted tail.
    await db.schema
      .createTable('audit_head')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('sequence', 'bigint', (column) => column.notNull())
      .addColumn('hash', 'text', (column) => column.notNull())
      .execute();
    await db.insertInto('audit_head').values({ id: 'chain', sequence: 0n, hash: GENESIS_HASH }).execute();

    await db.schema
      .createTable('webhooks')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('owner_id', 'text', (column) => column.notNull().references('owners.id'))
      .addColumn('url', 'text', (column) => column.notNull())
      // JSON array of event types, or null for every event.
      .addColumn('events', 'text')
      // The signing secret sealed with a key derived from the daemon secret (AES-256-GCM).
      .addColumn('secret_sealed', 'text', (column) => column.notNull())
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('deleted_at', 'bigint')
      .execute();
    await db.schema.createIndex('webhooks_owner').on('webhooks').column('owner_id').execute();

    await db.schema
      .createTable('webhook_outbox')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('event_id', 'text', (column) => column.notNull())
      .addColumn('webhook_id', 'text', (column) => column.notNull().references('webhooks.id'))
      .addColumn('wallet_id', 'text')
      .addColumn('type', 'text', (column) => column.notNull())
      // The exact JSON body, fixed at enqueue time so every attempt sends the same bytes.
      .addColumn('body', 'text', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('attempts', 'bigint', (column) => column.notNull())
      .addColumn('next_attempt_at', 'bigint', (column) => column.notNull())
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', 'bigint')
      .addColumn('last_status_code', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('updated_at', 'bigint', (column) => column.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('webhook_outbox_event')
      .on('webhook_outbox')
      .columns(['event_id', 'webhook_id'])
      .unique()
      .execute();
    await db.schema
      .createIndex('webhook_outbox_due')
      .on('webhook_outbox')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema
      .createIndex('webhook_outbox_webhook')
      .on('webhook_outbox')
      .columns(['webhook_id', 'created_at'])
      .execute();
  },
};
