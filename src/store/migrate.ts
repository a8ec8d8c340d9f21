/**
 * The migration runner. All pending migrations run in one write transaction together with their
 * `schema_migrations` rows, so a database is always at a version the code has recorded: a failure
 * leaves it where it was. Two processes starting at once serialise on a lock (an advisory lock per
 * schema on PostgreSQL, BEGIN IMMEDIATE on SQLite); the second then finds nothing left to do.
 */
import { type Kysely, sql } from 'kysely';
import { WaiaasError } from '../core/errors.ts';
import type { EngineHandle, StoreLogger } from './engine.ts';
import { migrations as allMigrations } from './migrations/index.ts';
import type { Migration } from './migrations/migration.ts';
import { type Database, nowMs } from './schema.ts';

export interface MigrateOptions {
  /** Defaults to every migration of this code; tests pass their own lists. */
  migrations?: readonly Migration[];
  logger?: StoreLogger | undefined;
}

export interface MigrationResult {
  /** What this call applied, in order; empty when the database was already up to date. */
  applied: { version: number; name: string }[];
  /** The highest version recorded in the database after this call. */
  databaseVersion: number;
  /** The highest version this code knows. */
  codeVersion: number;
}

const assertOrdered = (migrations: readonly Migration[]): void => {
  let previous = 0;
  for (const migration of migrations) {
    if (!Number.isSafeInteger(migration.version) || migration.version <= previous) {
      throw new WaiaasError('INTERNAL', {
        message: `Migration versions must be positive and strictly increasing; ${migration.version} (${migration.name}) follows ${previous}`,
      });
    }
    previous = migration.version;
  }
};

// One lock per schema, so that databases in other schemas (tests, other instances) migrate in parallel.
const POSTGRES_MIGRATION_LOCK = sql`
  select pg_advisory_xact_lock(hashtextextended('waiaas.migrate:' || coalesce(current_schema()::text, ''), 0))`;

const lockAgainstOtherProcesses = async (trx: Kysely<Database>, engine: EngineHandle['engine']) => {
  // SQLite: the caller's BEGIN IMMEDIATE already is the lock. PostgreSQL: released at commit.
  if (engine === 'postgres') await POSTGRES_MIGRATION_LOCK.execute(trx);
};

const createLedger = (trx: Kysely<Database>) =>
  trx.schema
    .createTable('schema_migrations')
    .ifNotExists()
    .addColumn('version', 'bigint', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('applied_at', 'bigint', (column) => column.notNull())
    .execute();

const highest = (versions: readonly number[]): number => versions.reduce((a, b) => Math.max(a, b), 0);

export const runMigrations = async (
  handle: EngineHandle,
  options: MigrateOptions = {},
): Promise<MigrationResult> => {
  const migrations = options.migrations ?? allMigrations;
  assertOrdered(migrations);
  const codeVersion = highest(migrations.map((m) => m.version));

  const result = await handle.writeTransaction(async (trx): Promise<MigrationResult> => {
    await lockAgainstOtherProcesses(trx, handle.engine);
    await createLedger(trx);

    const recorded = (await trx.selectFrom('schema_migrations').select('version').execute()).map((row) =>
      Number(row.version),
    );
    const known = new Set(migrations.map((m) => m.version));
    const unknown = recorded.filter((version) => !known.has(version));
    if (unknown.length > 0) {
      const databaseVersion = highest(recorded);
      // Thrown before anything is applied; the transaction rolls back whatever this call touched.
      throw new WaiaasError('DATABASE_TOO_NEW', {
        message: `The database is at schema version ${databaseVersion}, but this code knows versions up to ${codeVersion}`,
        details: { databaseVersion, codeVersion, unknownVersions: unknown.sort((a, b) => a - b) },
      });
    }

    const done = new Set(recorded);
    const applied: MigrationResult['applied'] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      try {
        await migration.up(trx, handle.engine);
      } catch (error) {
        throw new WaiaasError('INTERNAL', {
          message: `Database migration ${migration.version} (${migration.name}) failed; no migration was applied: ${handle.describeError(error)}`,
          details: { version: migration.version, name: migration.name },
        });
      }
      await trx
        .insertInto('schema_migrations')
        .values({ version: BigInt(migration.version), name: migration.name, applied_at: nowMs() })
        .execute();
      applied.push({ version: migration.version, name: migration.name });
    }
    return {
      applied,
      databaseVersion: highest([...recorded, ...applied.map((m) => m.version)]),
      codeVersion,
    };
  });

  for (const migration of result.applied) {
    options.logger?.info(
      { engine: handle.engine, version: migration.version, name: migration.name },
      'applied database migration',
    );
  }
  return result;
};
