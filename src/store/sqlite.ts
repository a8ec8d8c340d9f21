/** The embedded engine: one better-sqlite3 connection in WAL mode. */
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { WaiaasError } from '../core/errors.ts';
import type { EngineHandle, StoreLogger } from './engine.ts';
import type { Database } from './schema.ts';

export interface SqliteOptions {
  path: string;
  /** How long a write waits for another process's write lock before failing. */
  busyTimeoutMs: number;
  logger: StoreLogger | undefined;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const isBusy = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  'code' in error &&
  typeof error.code === 'string' &&
  error.code.startsWith('SQLITE_BUSY');

const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely prepares every query anew; preparing costs more than running most of ours. The same SQL text
 * gets the same statement back (Kysely only calls all/run, never the mode setters that would change a
 * shared statement). Calls with extra arguments (better-sqlite3's own pragma()) bypass the cache.
 */
const cachePreparedStatements = (connection: BetterSqlite3.Database): void => {
  const prepare = connection.prepare.bind(connection) as (...args: unknown[]) => BetterSqlite3.Statement;
  const cache = new Map<string, BetterSqlite3.Statement>();
  connection.prepare = ((...args: unknown[]) => {
    const [source] = args;
    if (args.length !== 1 || typeof source !== 'string') return prepare(...args);
    let statement = cache.get(source);
    if (statement === undefined) {
      statement = prepare(source);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(source, statement);
    }
    return statement;
  }) as BetterSqlite3.Database['prepare'];
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The database, and its -wal and -shm files, readable by the owner only: the file is created 0600
 * before SQLite opens it (SQLite gives the -wal and -shm files the database file's permissions), and
 * an existing file or journal opened up by someone is set back to 0600.
 */
const restrictFiles = (path: string, logger: StoreLogger | undefined): void => {
  if (path === ':memory:' || path === '') return;
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (!existsSync(file)) continue;
    const mode = statSync(file).mode & 0o777;
    if (mode === 0o600) continue;
    chmodSync(file, 0o600);
    logger?.warn(
      { path: file, mode: mode.toString(8) },
      'database file was readable by others; set back to 600',
    );
  }
};

const openConnection = (options: SqliteOptions): BetterSqlite3.Database => {
  let connection: BetterSqlite3.Database | undefined;
  try {
    restrictFiles(options.path, options.logger);
    connection = new BetterSqlite3(options.path, { timeout: options.busyTimeoutMs });
    const journalMode = connection.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') {
      options.logger?.warn(
        { path: options.path, journalMode },
        'SQLite could not switch to WAL; concurrent readers will block writers',
      );
    }
    connection.pragma('synchronous = NORMAL');
    connection.pragma('foreign_keys = ON');
    // Every INTEGER comes back as bigint, so values above 2^53 (amounts, slots) stay exact.
    connection.defaultSafeIntegers(true);
    cachePreparedStatements(connection);
    return connection;
  } catch (error) {
    connection?.close();
    const reason = messageOf(error);
    throw new WaiaasError('DATABASE_UNAVAILABLE', {
      message: `Cannot open the SQLite database at ${options.path}: ${reason}`,
      details: { engine: 'sqlite', path: options.path, reason },
    });
  }
};

/**
 * BEGIN IMMEDIATE, polling instead of using SQLite's busy handler: better-sqlite3 is synchronous, so a
 * busy wait would block the event loop, and with it the very transaction (in this process or the
 * same file opened twice) we are waiting for.
 */
const beginImmediate = async (connection: Kysely<Database>, options: SqliteOptions): Promise<void> => {
  const deadline = Date.now() + options.busyTimeoutMs;
  await sql.raw('pragma busy_timeout = 0').execute(connection);
  try {
    for (let pauseMs = 2; ; pauseMs = Math.min(pauseMs * 2, 50)) {
      try {
        await sql.raw('begin immediate').execute(connection);
        return;
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (Date.now() >= deadline) {
          throw new WaiaasError('DATABASE_UNAVAILABLE', {
            message: `The SQLite database at ${options.path} stayed locked by another writer for ${options.busyTimeoutMs} ms`,
            details: { engine: 'sqlite', path: options.path },
          });
        }
        await sleep(pauseMs * (0.5 + Math.random()));
      }
    }
  } finally {
    await sql.raw(`pragma busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`).execute(connection);
  }
};

export const openSqlite = (options: SqliteOptions): EngineHandle => {
  const connection = openConnection(options);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });

  return {
    db,
    engine: 'sqlite',
    location: options.path,
    describeError: messageOf,
    writeTransaction: (fn) =>
      // One Kysely connection = exclusive use of the single better-sqlite3 handle until we return.
      db.connection().execute(async (conn) => {
        await beginImmediate(conn, options);
        try {
          const result = await fn(conn);
          await sql.raw('commit').execute(conn);
          return result;
        } catch (error) {
          // SQLite may already have rolled back on its own (e.g. SQLITE_FULL); nothing to undo then.
          await sql
            .raw('rollback')
            .execute(conn)
            .catch(() => undefined);
          throw error;
        }
      }),
  };
};
