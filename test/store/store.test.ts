import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWaiaasError, type WaiaasError } from '../../src/core/errors.ts';
import { getMeta, META_INSTANCE_ID, setMeta } from '../../src/store/meta.ts';
import { findOperatorTokenByHash, insertOperatorToken } from '../../src/store/operator-tokens.ts';
import { openStore, type StoreOptions } from '../../src/store/store.ts';
import { forEachEngine, listTables, TEST_PG_URL } from '../support/databases.ts';

const ABOVE_2_POW_53 = 9007199254740993n;
const INT8_MAX = 9223372036854775807n;

const openFailure = async (options: StoreOptions): Promise<WaiaasError> => {
  const error = await openStore(options).then(
    (store) => {
      void store.close();
      return expect.fail('expected openStore to fail');
    },
    (e: unknown) => e,
  );
  if (!isWaiaasError(error)) throw error;
  return error;
};

/** Everything about an error a log line, a problem+json body or a stack dump could show. */
const everythingShown = (error: WaiaasError): string =>
  [
    error.message,
    error.stack,
    JSON.stringify(error.details),
    String(error.cause),
    JSON.stringify(error),
  ].join('\n');

forEachEngine((engine, { makeStore, makeDatabase }) => {
  it('stores and reads back int8 values above 2^53 exactly, as bigint', async () => {
    const store = await makeStore();
    await insertOperatorToken(store.db, { tokenHash: 'h', label: 'big', createdAt: ABOVE_2_POW_53 });
    await store.db.updateTable('operator_tokens').set({ revoked_at: INT8_MAX }).execute();

    const token = await findOperatorTokenByHash(store.db, 'h');

    expect(token?.createdAt).toBe(ABOVE_2_POW_53);
    expect(token?.revokedAt).toBe(INT8_MAX);
    const sum = await sql<{ n: unknown }>`select count(*) as n from operator_tokens`.execute(store.db);
    expect(sum.rows[0]?.n).toBe(1n);
  });

  it('keeps its data across close and reopen', async () => {
    const database = await makeDatabase();
    const first = await database.open();
    await setMeta(first.db, 'greeting', 'hello');
    await insertOperatorToken(first.db, { tokenHash: 'kept', label: 'master' });
    const instanceId = await getMeta(first.db, META_INSTANCE_ID);
    await first.close();

    const second = await database.open();

    expect(await getMeta(second.db, 'greeting')).toBe('hello');
    expect(await findOperatorTokenByHash(second.db, 'kept')).toMatchObject({ label: 'master' });
    expect(await getMeta(second.db, META_INSTANCE_ID)).toBe(instanceId);
  });

  it('reports health, and reports a closed store as down instead of throwing', async () => {
    const store = await makeStore();

    const up = await store.health();
    expect(up).toMatchObject({ ok: true, engine });
    expect(up.latencyMs).toBeGreaterThanOrEqual(0);
    expect(up.error).toBeUndefined();

    await store.close();
    const down = await store.health();
    expect(down).toMatchObject({ ok: false, engine });
    expect(down.error).toEqual(expect.any(String));
  });

  it('rolls back everything a write transaction did when it throws', async () => {
    const store = await makeStore();

    await expect(
      store.writeTransaction(async (trx) => {
        await setMeta(trx, 'half', 'done');
        throw new Error('stop here');
      }),
    ).rejects.toThrow('stop here');

    expect(await getMeta(store.db, 'half')).toBeUndefined();
    expect(await store.writeTransaction((trx) => setMeta(trx, 'whole', 'done').then(() => 'ok'))).toBe('ok');
    expect(await getMeta(store.db, 'whole')).toBe('done');
  });
});

describe('sqlite', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waiaas-store-sqlite-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs in WAL mode with foreign keys on and synchronous NORMAL', async () => {
    const sqlitePath = join(dir, 'pragmas.sqlite');
    const store = await openStore({ sqlitePath });
    try {
      const pragma = async (name: string) =>
        (await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(store.db)).rows[0]?.[name];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('foreign_keys')).toBe(1n);
      expect(await pragma('synchronous')).toBe(1n); // NORMAL
      await setMeta(store.db, 'k', 'v');
      expect(existsSync(`${sqlitePath}-wal`)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('fails with DATABASE_UNAVAILABLE when the file cannot be opened', async () => {
    const error = await openFailure({ sqlitePath: join(dir, 'no-such-dir', 'x.sqlite') });
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.message).toContain('no-such-dir');
  });

  it('refuses to start with no database configured', async () => {
    expect((await openFailure({})).code).toBe('CONFIG_INVALID');
  });
});

describe('postgres', () => {
  const PASSWORD = 'S3cret-Pa55word-4711';
  const withPassword = (url: string) => {
    const parsed = new URL(url);
    parsed.password = PASSWORD;
    return parsed;
  };

  it('fails with DATABASE_UNAVAILABLE, password masked, when the server does not answer', async () => {
    const url = withPassword(TEST_PG_URL);
    url.host = '127.0.0.1:1';

    const error = await openFailure({ url: url.toString(), connectTimeoutMs: 2000 });

    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('127.0.0.1:1');
    expect(error.message).toContain('***');
    expect(everythingShown(error)).not.toContain(PASSWORD);
  });

  it('fails with DATABASE_UNAVAILABLE, password masked, when the server refuses the database', async () => {
    const url = withPassword(TEST_PG_URL);
    url.pathname = '/waiaas_no_such_database';

    const error = await openFailure({ url: url.toString() });

    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(everythingShown(error)).not.toContain(PASSWORD);
  });

  it('refuses a schema name that is not a plain identifier, before connecting', async () => {
    const error = await openFailure({ url: TEST_PG_URL, schema: 'x"; drop schema public cascade; --' });
    expect(error.code).toBe('CONFIG_INVALID');
  });

  it('refuses a URL of another scheme', async () => {
    const error = await openFailure({ url: `mysql://root:${PASSWORD}@127.0.0.1/db` });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(everythingShown(error)).not.toContain(PASSWORD);
  });
});

forEachEngine(
  (_engine, { makeDatabase }) => {
    it('keeps its tables in the schema named by ?schema= in the URL', async () => {
      const database = await makeDatabase();
      const store = await openStore({ url: database.url });
      try {
        const schema = database.options.schema!;
        expect(store.location).toContain(schema);
        const { rows } = await sql<{ table_name: string }>`
          select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(
          store.db,
        );
        expect(rows.map((r) => r.table_name)).toEqual(await listTables(store));
        expect(rows.map((r) => r.table_name)).toContain('operator_tokens');
      } finally {
        await store.close();
      }
    });
  },
  ['postgres'],
);
