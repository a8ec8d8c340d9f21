/**
 * Run a suite against both engines, each database fresh and thrown away afterwards:
 *
 *   forEachEngine((engine, { makeStore, makeDatabase }) => {
 *     it('keeps a transfer', async () => {
 *       const store = await makeStore();              // new SQLite file / new PG schema, migrated
 *       ...
 *     });
 *     it('survives a restart', async () => {
 *       const database = await makeDatabase();        // one location, open it as often as you like
 *       const first = await database.open();
 *       await first.close();
 *       const second = await database.open();
 *       ...
 *     });
 *   });
 *
 * Made inside a test, a database and its stores are closed and deleted after that test; made in a
 * `beforeAll`, after the engine's suite. SQLite files live in a temp dir; PostgreSQL databases are
 * random schemas on WAIAAS_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test). If that
 * server is unreachable every PostgreSQL test fails: the engine is part of what is tested.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import type { StoreEngine } from '../../src/store/engine.ts';
import { openStore, type Store, type StoreOptions } from '../../src/store/store.ts';

export const TEST_PG_URL = process.env['WAIAAS_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export const ENGINES: readonly StoreEngine[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  readonly engine: StoreEngine;
  /** What `open()` passes to openStore; spread it into your own options to open it elsewhere. */
  readonly options: Readonly<StoreOptions>;
  /** PostgreSQL: a URL naming the schema (`…?schema=…`), e.g. for WAIAAS_DB_URL. SQLite: undefined. */
  readonly url: string | undefined;
  /** SQLite: the database file (its directory exists). PostgreSQL: undefined. */
  readonly sqlitePath: string | undefined;
  /** Opens a Store on this database (migrated unless `migrate: false`); closed for you at clean-up. */
  open(overrides?: Partial<StoreOptions>): Promise<Store>;
}

export interface EngineSuite {
  /** A new, empty database on this engine. */
  makeDatabase(): Promise<TestDatabase>;
  /** A Store on a new database, migrated unless `migrate: false`. */
  makeStore(overrides?: Partial<StoreOptions>): Promise<Store>;
}

type Cleanup = () => Promise<void>;

const maskPassword = (url: string): string => url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');

const connectAdmin = async (): Promise<pg.Pool> => {
  const pool = new pg.Pool({ connectionString: TEST_PG_URL, max: 2, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  try {
    await pool.query('select 1');
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    const reason = error instanceof Error ? error.message || String(error) : String(error);
    throw new Error(
      `PostgreSQL is unreachable at ${maskPassword(TEST_PG_URL)} (${reason}). ` +
        'The store tests run against it: start PostgreSQL or set WAIAAS_TEST_PG_URL.',
    );
  }
};

const withSchemaParam = (url: string, schema: string): string =>
  `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;

/** Defines one `describe(engine)` per engine around `define`. */
export const forEachEngine = (
  define: (engine: StoreEngine, suite: EngineSuite) => void,
  engines: readonly StoreEngine[] = ENGINES,
): void => {
  for (const engine of engines) {
    describe(engine, () => {
      let admin: pg.Pool | undefined;
      let inTest = false;
      const testCleanups: Cleanup[] = [];
      const suiteCleanups: Cleanup[] = [];
      const onCleanup = (cleanup: Cleanup) => (inTest ? testCleanups : suiteCleanups).push(cleanup);
      const runCleanups = async (cleanups: Cleanup[]) => {
        // Newest first: stores close before their database is deleted.
        for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      };

      beforeAll(async () => {
        if (engine === 'postgres') admin = await connectAdmin();
      });
      beforeEach(() => {
        inTest = true;
      });
      afterEach(async () => {
        inTest = false;
        await runCleanups(testCleanups);
      });
      afterAll(async () => {
        await runCleanups(suiteCleanups);
        await admin?.end();
      });

      const createLocation = async (): Promise<Pick<TestDatabase, 'options' | 'url' | 'sqlitePath'>> => {
        if (engine === 'sqlite') {
          const dir = await mkdtemp(join(tmpdir(), 'waiaas-store-'));
          onCleanup(() => rm(dir, { recursive: true, force: true }));
          const sqlitePath = join(dir, 'waiaas.sqlite');
          return { options: { sqlitePath }, url: undefined, sqlitePath };
        }
        if (admin === undefined) throw new Error('PostgreSQL admin pool missing: was beforeAll skipped?');
        const pool = admin;
        const schema = `waiaas_test_${randomBytes(6).toString('hex')}`;
        await pool.query(`create schema "${schema}"`);
        onCleanup(async () => {
          await pool.query(`drop schema if exists "${schema}" cascade`);
        });
        return {
          options: { url: TEST_PG_URL, schema },
          url: withSchemaParam(TEST_PG_URL, schema),
          sqlitePath: undefined,
        };
      };

      const makeDatabase = async (): Promise<TestDatabase> => {
        const location = await createLocation();
        return {
          engine,
          ...location,
          open: async (overrides = {}) => {
            const store = await openStore({ ...location.options, ...overrides });
            onCleanup(() => store.close());
            return store;
          },
        };
      };

      define(engine, {
        makeDatabase,
        makeStore: async (overrides) => (await makeDatabase()).open(overrides),
      });
    });
  }
};

/** The store's tables (its own schema only, on PostgreSQL), sorted. */
export const listTables = async (store: Store): Promise<string[]> => {
  const tables = await store.db.introspection.getTables();
  if (store.engine === 'sqlite') return tables.map((t) => t.name).sort();
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
  return tables
    .filter((t) => t.schema === rows[0]?.schema)
    .map((t) => t.name)
    .sort();
};
