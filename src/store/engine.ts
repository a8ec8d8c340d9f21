/** What each engine module hands to `openStore`; the parts of a Store that differ by engine. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type StoreEngine = 'sqlite' | 'postgres';

/** The subset of a pino logger the store uses; a pino `Logger` fits. */
export interface StoreLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface EngineHandle {
  readonly db: Kysely<Database>;
  readonly engine: StoreEngine;
  /** Where the data lives, safe to print: a file path, or the URL with its password masked. */
  readonly location: string;
  /**
   * Runs `fn` in a transaction that holds the write lock from its first statement, so that a
   * read-then-write inside it cannot interleave with another writer: BEGIN IMMEDIATE on SQLite (waiting
   * without blocking the event loop), a plain transaction on PostgreSQL (take row or advisory locks
   * inside `fn` as needed). Inside `fn` use `trx` only: a query on the store's `db` would wait for this
   * transaction on SQLite (deadlock) and run outside it on PostgreSQL.
   */
  writeTransaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /** An error's message with anything secret (the URL's password) masked. */
  describeError(error: unknown): string;
}
