import type { Migration } from './migration.ts';

/**
 * x402 payments and the agent float (DESIGN.md §11) are transfers too: they count against the same
 * daily budget and rate window, in the same rows. `kind` says which (every earlier row is an ordinary
 * transfer); `x402_detail` keeps, as JSON, what an x402 payment was for (URL, path, network, payee)
 * and how it settled.
 */
export const x402: Migration = {
  version: 12,
  name: 'transfers: kind and x402 detail',
  async up(db) {
    await db.schema
      .alterTable('transfers')
      .addColumn('kind', 'text', (column) => column.notNull().defaultTo('transfer'))
      .execute();
    await db.schema.alterTable('transfers').addColumn('x402_detail', 'text').execute();
  },
};
