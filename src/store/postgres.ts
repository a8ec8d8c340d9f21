/** The shared engine: a `pg` pool, int8 read as bigint, optionally confined to one schema. */
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { WaiaasError } from '../core/errors.ts';
import type { EngineHandle, StoreLogger } from './engine.ts';
import type { Database } from './schema.ts';

export interface PostgresOptions {
  url: string;
  /** Keep every table in this schema (created if missing); also read from `?schema=` in the URL. */
  schema: string | undefined;
  poolSize: number;
  connectTimeoutMs: number;
  logger: StoreLogger | undefined;
}

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
/** Lowercase only: an unquoted identifier in search_path is folded to lowercase by the server. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

type NestedStrings = string | null | NestedStrings[];
type NestedBigints = bigint | null | NestedBigints[];
const toBigints = (value: NestedStrings): NestedBigints =>
  Array.isArray(value) ? value.map(toBigints) : value === null ? null : BigInt(value);

// TypeId is a closed enum of the built-in oids; 1016 (_int8) is one of them but not named there.
const parseInt8Array = pg.types.getTypeParser(
  INT8_ARRAY_OID as Parameters<typeof pg.types.getTypeParser>[0],
  'text',
) as (text: string) => NestedStrings;

/** Per pool, not global (`pg.types.setTypeParser` would change every other pg user in the process). */
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && oid === INT8_OID) return (text: string) => BigInt(text);
    if (format !== 'binary' && oid === INT8_ARRAY_OID)
      return (text: string) => toBigints(parseInt8Array(text));
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

export interface PostgresTarget {
  /** The URL handed to pg, without our own `schema` parameter. */
  connectionString: string;
  schema: string | undefined;
  /** The URL with its password masked, safe to print and log. */
  location: string;
  /** Strings that must never appear in a message: the URL and its password in every spelling. */
  secrets: string[];
}

const configInvalid = (message: string): WaiaasError =>
  new WaiaasError('CONFIG_INVALID', { message, details: { key: 'database url' } });

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

const maskUrl = (url: URL): string => {
  const masked = new URL(url);
  if (masked.password !== '') masked.password = '***';
  if (masked.searchParams.has('password')) masked.searchParams.set('password', '***');
  return masked.toString();
};

/** Splits our `schema` option off the URL and works out what to mask; touches nothing else of it. */
export const parsePostgresTarget = (url: string, schemaOption: string | undefined): PostgresTarget => {
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw configInvalid('The database URL must start with postgres:// or postgresql://');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not echoed: an unparsable URL may still hold a password.
    throw configInvalid('The database URL is not a valid URL (postgres://user:password@host:port/database)');
  }
  const queryPassword = parsed.searchParams.get('password') ?? '';
  const secrets = [url, parsed.password, safeDecode(parsed.password), queryPassword].filter((s) => s !== '');

  const [base, query = ''] = splitOnce(url, '?');
  const params = new URLSearchParams(query);
  const schema = schemaOption ?? params.get('schema') ?? undefined;
  params.delete('schema');
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw configInvalid(
      `Database schema "${schema}" is not allowed: use lowercase letters, digits and _, starting with a letter or _`,
    );
  }
  const rest = params.toString();
  const connectionString = rest === '' ? base : `${base}?${rest}`;
  const location = maskUrl(new URL(connectionString)) + (schema === undefined ? '' : ` (schema ${schema})`);
  return { connectionString, schema, location, secrets };
};

const splitOnce = (text: string, separator: string): [string, string | undefined] => {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
};

const rawMessage = (error: unknown): string => {
  if (error instanceof AggregateError && error.message === '') {
    // Node reports a refused connection to a name with several addresses this way, message empty.
    return error.errors.map(rawMessage).join('; ');
  }
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    return error.message !== '' ? error.message : (code ?? error.name);
  }
  return String(error);
};

const scrub = (text: string, secrets: readonly string[]): string =>
  // Longest first, so the whole URL is masked before its password alone.
  [...secrets]
    .sort((a, b) => b.length - a.length)
    .reduce((out, secret) => out.split(secret).join('***'), text);

const ensureSchema = async (db: Kysely<Database>, schema: string): Promise<void> => {
  // Checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
  const found = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(db);
  if (found.rows.length > 0) return;
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    // Another process created it between our check and our create.
    const code = (error as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  }
};

export const openPostgres = async (options: PostgresOptions): Promise<EngineHandle> => {
  const target = parsePostgresTarget(options.url, options.schema);
  const describeError = (error: unknown): string => scrub(rawMessage(error), target.secrets);

  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    application_name: 'waiaas',
    types: typeParsers,
  });
  // An idle client losing its server emits here; unhandled, it would crash the process.
  pool.on('error', (error) => {
    options.logger?.warn(
      { engine: 'postgres', location: target.location, reason: describeError(error) },
      'idle PostgreSQL connection failed',
    );
  });

  const { schema } = target;
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool,
      ...(schema === undefined
        ? {}
        : {
            onCreateConnection: async (connection) => {
              await connection.executeQuery(CompiledQuery.raw(`set search_path to "${schema}"`));
            },
          }),
    }),
  });

  try {
    if (schema !== undefined) await ensureSchema(db, schema);
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    const reason = describeError(error);
    throw new WaiaasError('DATABASE_UNAVAILABLE', {
      message: `Cannot connect to PostgreSQL at ${target.location}: ${reason}`,
      details: { engine: 'postgres', location: target.location, reason },
    });
  }

  return {
    db,
    engine: 'postgres',
    location: target.location,
    describeError,
    writeTransaction: (fn) => db.transaction().execute(fn),
  };
};
