import { randomUUID } from 'node:crypto';
import type { Migration } from './migration.ts';

export const initial: Migration = {
  version: 1,
  name: 'initial',
  async up(db) {
    await db.schema
      .createTable('meta')
      .addColumn('key', 'text', (column) => column.primaryKey())
      .addColumn('value', 'text', (column) => column.notNull())
      .execute();

    await db.schema
      .createTable('operator_tokens')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('token_hash', 'text', (column) => column.notNull().unique())
      .addColumn('label', 'text', (column) => column.notNull())
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();

    // Written once, here, because migrations run exactly once per database: the id names this
    // database for its whole life (logs, metrics, telling replicas' databases apart).
    await db
      .insertInto('meta')
      .values([
        { key: 'instance_id', value: randomUUID() },
        { key: 'created_at', value: String(Date.now()) },
      ])
      .execute();
  },
};
