/** Opening the database: SQLite by default, PostgreSQL for a `postgres://` URL; migrated on open. */
import { type Kysely, sql } from 'kysely';
import { WaiaasError } from '../core/errors.ts';
import type { EngineHandle, StoreEngine, StoreLogger } from './engine.ts';
import { type MigrateOptions, type MigrationResult, runMigrations } from './migrate.ts';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite.ts';

export interface StoreOptions {
  /** `postgres://…` (or `postgresql://…`) for PostgreSQL; absent or empty for SQLite at `sqlitePath`. */
  url?: string | undefined;
  /** The SQLite file; its directory must exist. Required when `url` is absent. */
  sqlitePath?: string | undefined;
  /** PostgreSQL only: keep every table in this schema (created if missing). Also `?schema=` in the URL. */
  schema?: string | undefined;
  logger?: StoreLogger | undefined;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** SQLite: how long a write waits for another process's write lock (default 5000). */
  busyTimeoutMs?: number;
  /** PostgreSQL: pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL: how long to wait for a connection (default 5000). */
  connectTimeoutMs?: number;
}

export interface StoreHealth {
  ok: boolean;
  engine: StoreEngine;
  latencyMs: number;
  /** Why it is not ok, with secrets masked. */
  error?: string;
}

export interface Store {
  readonly db: Kysely<Database>;
  readonly engine: StoreEngine;
  /** Where the data lives, safe to print: the SQLite path, or the URL with its password masked. */
  readonly location: string;
  /** See EngineHandle.writeTransaction: a transaction holding the write lock from its start. */
  writeTransaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Applies pending migrations; `openStore` already did unless told `migrate: false`. */
  migrate(options?: Omit<MigrateOptions, 'logger'>): Promise<MigrationResult>;
  /** Never throws: a failed round trip is `ok: false` with the reason. */
  health(timeoutMs?: number): Promise<StoreHealth>;
  /** Idempotent. */
  close(): Promise<void>;
}

const openEngine = async (options: StoreOptions): Promise<EngineHandle> => {
  if (options.url !== undefined && options.url !== '') {
    // Loaded only for PostgreSQL: the embedded default never needs the pg driver in memory.
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres({
      url: options.url,
      schema: options.schema,
      poolSize: options.poolSize ?? 10,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      logger: options.logger,
    });
  }
  if (options.sqlitePath === undefined || options.sqlitePath === '') {
    throw new WaiaasError('CONFIG_INVALID', {
      message: 'No database configured: give a postgres:// URL or a SQLite file path',
      details: { key: 'database' },
    });
  }
  return openSqlite({
    path: options.sqlitePath,
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    logger: options.logger,
  });
};

const roundMs = (ms: number): number => Math.round(ms * 100) / 100;

const checkHealth = async (handle: EngineHandle, timeoutMs: number): Promise<StoreHealth> => {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([sql`select 1`.execute(handle.db), timeout]);
    return { ok: true, engine: handle.engine, latencyMs: roundMs(performance.now() - started) };
  } catch (error) {
    return {
      ok: false,
      engine: handle.engine,
      latencyMs: roundMs(performance.now() - started),
      error: handle.describeError(error),
    };
  } finally {
    clearTimeout(timer);
  }
};

export const openStore = async (options: StoreOptions): Promise<Store> => {
  const handle = await openEngine(options);
  let closing: Promise<void> | undefined;
  const store: Store = {
    db: handle.db,
    engine: handle.engine,
    location: handle.location,
    writeTransaction: (fn) => handle.writeTransaction(fn),
    migrate: (migrateOptions) => runMigrations(handle, { ...migrateOptions, logger: options.logger }),
    health: (timeoutMs = 2000) => checkHealth(handle, timeoutMs),
    close: () => {
      closing ??= handle.db.destroy();
      return closing;
    },
  };
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
};
