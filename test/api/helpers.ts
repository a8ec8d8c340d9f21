/** What the API tests share: row counts of every table, to show a request changed nothing. */
import type { Store } from '../../src/store/index.ts';

/** Rows per table, every table of the schema (read from the database, so new tables are included). */
export async function rowCounts(store: Store): Promise<Record<string, number>> {
  const tables = (await store.db.introspection.getTables()).map((table) => table.name).sort();
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const row = await store.db
      // biome-ignore lint/suspicious/noExplicitAny: every table, whatever its name.
      .selectFrom(table as any)
      .select((eb) => eb.fn.countAll<string | number | bigint>().as('count'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.count);
  }
  return counts;
}

/**
 * What a request that must change nothing is compared against: the row count of every table, the
 * audit chain's head, and the mutable columns of wallets and sessions.
 */
export async function stateOf(store: Store) {
  const [counts, head, wallets, sessions] = await Promise.all([
    rowCounts(store),
    store.db.selectFrom('audit_head').selectAll().execute(),
    store.db
      .selectFrom('wallets')
      .select(['id', 'status', 'policy_version', 'updated_at'])
      .orderBy('id')
      .execute(),
    store.db.selectFrom('sessions').select(['id', 'revoked_at']).orderBy('id').execute(),
  ]);
  return { counts, head, wallets, sessions };
}

/**
 * Waits until background writers (workers, the delivery worker) have caught up: the row counts read
 * the same twice, 100 ms apart. Fails at its deadline rather than letting a test compare a moving
 * database.
 */
export async function quiescent(store: Store, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = JSON.stringify(await rowCounts(store));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = JSON.stringify(await rowCounts(store));
    if (now === last) return;
    if (Date.now() > deadline) throw new Error(`the database was still changing after ${timeoutMs} ms`);
    last = now;
  }
}
