import type { Migration } from './migration.ts';

export const ownerUnlockThrottle: Migration = {
  version: 9,
  name: 'owner unlock throttle',
  async up(db) {
    // One row per owner with recent wrong second factors; in the database so every replica sees it.
    await db.schema
      .createTable('owner_unlock_throttle')
      .addColumn('owner_id', 'text', (column) => column.primaryKey())
      // Attempts counted since the last success (each counted before it is checked).
      .addColumn('failures', 'bigint', (column) => column.notNull())
      .addColumn('last_attempt_at', 'bigint', (column) => column.notNull())
      // No attempt is checked before this time (epoch ms; 0: none).
      .addColumn('locked_until', 'bigint', (column) => column.notNull())
      .execute();
  },
};
