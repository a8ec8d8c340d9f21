import type { Kysely } from 'kysely';
import type { StoreEngine } from '../engine.ts';

/**
 * A migration sees the database untyped on purpose: it must keep compiling against the tables as they
 * were when it was written, not as `Database` describes them today.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; Kysely's documented type for migrations.
export type MigrationDb = Kysely<any>;

export interface Migration {
  /** Positive, strictly increasing across the list; never reused or renumbered once released. */
  readonly version: number;
  readonly name: string;
  /**
   * Runs inside the migration transaction, on both engines: use Kysely's schema builder and portable
   * SQL; `engine` is there for the rare statement that cannot be portable.
   */
  up(db: MigrationDb, engine: StoreEngine): Promise<void>;
}
