import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { getMeta, META_INSTANCE_ID } from '../../src/store/meta.ts';
import { migrations } from '../../src/store/migrations/index.ts';
import type { Migration } from '../../src/store/migrations/migration.ts';
import type { Store } from '../../src/store/store.ts';
import { forEachEngine, listTables } from '../support/databases.ts';

const codeVersion = migrations.at(-1)!.version;

const ledger = (store: Store) =>
  store.db.selectFrom('schema_migrations').selectAll().orderBy('version').execute();

const rejection = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );

forEachEngine((engine, { makeDatabase }) => {
  it('builds every table from an empty database and records each migration', async () => {
    const database = await makeDatabase();
    const store = await database.open({ migrate: false });
    expect(await listTables(store)).toEqual([]);

    const result = await store.migrate();

    expect(result.applied).toEqual(migrations.map(({ version, name }) => ({ version, name })));
    expect(result).toMatchObject({ databaseVersion: codeVersion, codeVersion });
    expect(await listTables(store)).toEqual([
      'agent_keys',
      'audit_head',
      'audit_log',
      'enclave_checkpoints',
      'enclave_instances',
      'fee_spends',
      'meta',
      'multisig_locks',
      'operator_tokens',
      'owner_acts',
      'owner_unlock_throttle',
      'owners',
      'rate_limit_windows',
      'rate_window_buckets',
      'revocation_epoch',
      'schema_migrations',
      'sessions',
      'spend_window_buckets',
      'transfers',
      'wallet_assignments',
      'wallets',
      'webhook_outbox',
      'webhooks',
    ]);
    const rows = await ledger(store);
    expect(rows.map((r) => [r.version, r.name])).toEqual(migrations.map((m) => [BigInt(m.version), m.name]));
    expect(Number(rows[0]!.applied_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(await getMeta(store.db, META_INSTANCE_ID)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('changes nothing when run again, in the same process or a later one', async () => {
    const database = await makeDatabase();
    const first = await database.open();
    const rowsBefore = await ledger(first);
    const instanceId = await getMeta(first.db, META_INSTANCE_ID);

    expect((await first.migrate()).applied).toEqual([]);
    await first.close();
    const second = await database.open({ migrate: false });
    expect(await second.migrate()).toEqual({ applied: [], databaseVersion: codeVersion, codeVersion });

    expect(await ledger(second)).toEqual(rowsBefore);
    expect(await getMeta(second.db, META_INSTANCE_ID)).toBe(instanceId);
  });

  it('refuses a database migrated by newer code and leaves it as it was', async () => {
    const database = await makeDatabase();
    const store = await database.open();
    await store.db
      .insertInto('schema_migrations')
      .values({ version: 9999n, name: 'from_the_future', applied_at: 1n })
      .execute();
    const rowsBefore = await ledger(store);
    const tablesBefore = await listTables(store);
    const withPending: Migration[] = [
      ...migrations,
      {
        version: codeVersion + 1,
        name: 'must_not_run',
        up: async (db) => {
          await db.schema.createTable('must_not_exist').addColumn('id', 'text').execute();
        },
      },
    ];

    const error = await rejection(store.migrate({ migrations: withPending }));

    expect(isWaiaasError(error, 'DATABASE_TOO_NEW')).toBe(true);
    expect((error as Error).message).toContain('9999');
    expect((error as Error).message).toContain(String(codeVersion + 1));
    expect(await ledger(store)).toEqual(rowsBefore);
    expect(await listTables(store)).toEqual(tablesBefore);

    // What an operator meets when starting an old daemon on this database.
    const atStartUp = await rejection(database.open());
    expect(isWaiaasError(atStartUp, 'DATABASE_TOO_NEW')).toBe(true);
    expect((atStartUp as { details: unknown }).details).toMatchObject({
      databaseVersion: 9999,
      codeVersion,
    });
    expect(await ledger(store)).toEqual(rowsBefore);
  });

  it('leaves the database as it was when a migration fails', async () => {
    const database = await makeDatabase();
    const store = await database.open({ migrate: false });
    const failing: Migration[] = [
      ...migrations,
      {
        version: codeVersion + 1,
        name: 'fails_halfway',
        up: async (db) => {
          await db.schema.createTable('half_done').addColumn('id', 'text').execute();
          throw new Error('disk on fire');
        },
      },
    ];

    const error = await rejection(store.migrate({ migrations: failing }));

    expect(isWaiaasError(error, 'INTERNAL')).toBe(true);
    expect((error as Error).message).toContain('fails_halfway');
    expect(await listTables(store)).toEqual([]);
    expect((await store.migrate()).applied).toHaveLength(migrations.length);
  });

  it('applies each migration exactly once when two processes start at the same moment', async () => {
    const database = await makeDatabase();
    const [a, b] = await Promise.all([database.open({ migrate: false }), database.open({ migrate: false })]);
    let slowRuns = 0;
    const withSlowStep: Migration[] = [
      ...migrations,
      {
        version: codeVersion + 1,
        name: 'slow_step',
        // Holds the migration transaction open long enough for the other process to arrive.
        up: async (db) => {
          slowRuns += 1;
          await sleep(150);
          await db.schema.createTable('slow_step_marker').addColumn('id', 'text').execute();
        },
      },
    ];

    const results = await Promise.all([
      a.migrate({ migrations: withSlowStep }),
      b.migrate({ migrations: withSlowStep }),
    ]);

    expect(slowRuns).toBe(1);
    const appliedCounts = results.map((r) => r.applied.length).sort();
    expect(appliedCounts).toEqual([0, withSlowStep.length]);
    expect(results.every((r) => r.databaseVersion === codeVersion + 1)).toBe(true);
    expect((await ledger(a)).map((r) => Number(r.version))).toEqual(withSlowStep.map((m) => m.version));
  });

  if (engine === 'postgres') {
    it('migrates a schema without waiting for migrations running in another schema', async () => {
      const [busy, other] = await Promise.all([makeDatabase(), makeDatabase()]);
      const busyStore = await busy.open({ migrate: false });
      const otherStore = await other.open({ migrate: false });
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let opened!: () => void;
      const holding = new Promise<void>((resolve) => {
        opened = resolve;
      });
      const blocking = busyStore.migrate({
        migrations: [
          {
            version: 1,
            name: 'held_open',
            up: () => {
              opened();
              return held;
            },
          },
        ],
      });
      try {
        // The other schema's migration transaction is open and held.
        await holding;
        const timedOut = sleep(5000).then(() => 'waited for the other schema' as const);
        expect(await Promise.race([otherStore.migrate().then(() => 'done' as const), timedOut])).toBe('done');
      } finally {
        release();
        await blocking;
      }
      expect(await listTables(otherStore)).toContain('operator_tokens');
    });
  }
});

describe('migration list', () => {
  it('is ordered by strictly increasing version', () => {
    const versions = migrations.map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort((x, y) => x - y));
    expect(versions[0]).toBe(1);
  });
});
