import { sql } from 'kysely';
import type { StoreEngine } from '../engine.ts';
import type { Migration, MigrationDb } from './migration.ts';

/*
 * Both tables below are kept by triggers on the tables they summarise, so every statement that inserts,
 * releases (counts_daily = 0), deletes or revokes updates them in its own transaction, whoever issues
 * it: the pipeline, a freeze cancelling transfers, an operator in psql. Code never writes them.
 */

/** Bucket widths: the enclave's own (src/enclave/wallet-state.ts), so L1 is exactly as strict as L2. */
const SPEND_BUCKET_MS = 300_000;
const RATE_BUCKET_MS = 10_000;
/** Buckets older than this (relative to the transfer being inserted) are pruned; windows are ≤ 24 h 10 min. */
const PRUNE_AFTER_MS = 2 * 86_400_000;

const SQLITE_TRIGGERS = [
  `create trigger transfers_window_insert after insert on transfers
   begin
     insert into spend_window_buckets (wallet_id, asset, bucket_start, amount)
       select new.wallet_id, new.asset, (new.counted_at / ${SPEND_BUCKET_MS}) * ${SPEND_BUCKET_MS}, new.amount
       where new.counts_daily <> 0
       on conflict (wallet_id, asset, bucket_start) do update set amount = amount + excluded.amount;
     insert into rate_window_buckets (wallet_id, bucket_start, transfers)
       values (new.wallet_id, (new.created_at / ${RATE_BUCKET_MS}) * ${RATE_BUCKET_MS}, 1)
       on conflict (wallet_id, bucket_start) do update set transfers = transfers + 1;
     delete from spend_window_buckets
       where wallet_id = new.wallet_id and asset = new.asset and bucket_start < new.counted_at - ${PRUNE_AFTER_MS};
     delete from rate_window_buckets
       where wallet_id = new.wallet_id and bucket_start < new.created_at - ${PRUNE_AFTER_MS};
   end`,
  `create trigger transfers_window_update
   after update of counts_daily, amount, asset, counted_at, wallet_id on transfers
   when old.counts_daily <> new.counts_daily or old.amount <> new.amount or old.asset <> new.asset
     or old.counted_at <> new.counted_at or old.wallet_id <> new.wallet_id
   begin
     insert into spend_window_buckets (wallet_id, asset, bucket_start, amount)
       select old.wallet_id, old.asset, (old.counted_at / ${SPEND_BUCKET_MS}) * ${SPEND_BUCKET_MS}, -old.amount
       where old.counts_daily <> 0
       on conflict (wallet_id, asset, bucket_start) do update set amount = amount + excluded.amount;
     insert into spend_window_buckets (wallet_id, asset, bucket_start, amount)
       select new.wallet_id, new.asset, (new.counted_at / ${SPEND_BUCKET_MS}) * ${SPEND_BUCKET_MS}, new.amount
       where new.counts_daily <> 0
       on conflict (wallet_id, asset, bucket_start) do update set amount = amount + excluded.amount;
   end`,
  `create trigger transfers_window_delete after delete on transfers
   begin
     insert into spend_window_buckets (wallet_id, asset, bucket_start, amount)
       select old.wallet_id, old.asset, (old.counted_at / ${SPEND_BUCKET_MS}) * ${SPEND_BUCKET_MS}, -old.amount
       where old.counts_daily <> 0
       on conflict (wallet_id, asset, bucket_start) do update set amount = amount + excluded.amount;
     insert into rate_window_buckets (wallet_id, bucket_start, transfers)
       values (old.wallet_id, (old.created_at / ${RATE_BUCKET_MS}) * ${RATE_BUCKET_MS}, -1)
       on conflict (wallet_id, bucket_start) do update set transfers = transfers - 1;
   end`,
  ...revocationTriggers('sqlite'),
];

function revocationTriggers(engine: StoreEngine): string[] {
  // What a cached principal is made of: a session's token, wallet, expiry and revocation; an operator
  // token's; all of an owner (rarely changed, so any change counts).
  const watched: [table: string, columns: string | undefined][] = [
    ['sessions', 'token_hash, wallet_id, expires_at, revoked_at'],
    ['operator_tokens', 'token_hash, revoked_at'],
    ['owners', undefined],
  ];
  const bump = `update revocation_epoch set value = value + 1 where id = 'auth'`;
  return watched.flatMap(([table, columns]) => {
    const update = columns === undefined ? 'update' : `update of ${columns}`;
    return engine === 'sqlite'
      ? [
          `create trigger ${table}_revocation_update after ${update} on ${table} begin ${bump}; end`,
          `create trigger ${table}_revocation_delete after delete on ${table} begin ${bump}; end`,
        ]
      : [
          `create trigger ${table}_revocation after ${update} or delete on ${table}
           for each statement execute function bump_revocation_epoch()`,
        ];
  });
}

const POSTGRES_FUNCTIONS = [
  `create function bump_revocation_epoch() returns trigger language plpgsql as $$
   begin
     update revocation_epoch set value = value + 1 where id = 'auth';
     return null;
   end $$`,
  `create function transfers_window_buckets() returns trigger language plpgsql as $$
   begin
     if tg_op in ('UPDATE', 'DELETE') and old.counts_daily <> 0 then
       insert into spend_window_buckets as b (wallet_id, asset, bucket_start, amount)
         values (old.wallet_id, old.asset, (old.counted_at / ${SPEND_BUCKET_MS}) * ${SPEND_BUCKET_MS}, -old.amount)
         on conflict (wallet_id, asset, bucket_start) do update set amount = b.amount + excluded.amount;
     end if;
     if tg_op in ('INSERT', 'UPDATE') and new.counts_daily <> 0 then
       insert into spend_window_buckets as b (wallet_id, asset, bucket_start, amount)
         values (new.wallet_id, new.asset, (new.counted_at / ${SPEND_BUCKET_MS}) * ${SPEND_BUCKET_MS}, new.amount)
         on conflict (wallet_id, asset, bucket_start) do update set amount = b.amount + excluded.amount;
     end if;
     if tg_op = 'INSERT' then
       insert into rate_window_buckets as b (wallet_id, bucket_start, transfers)
         values (new.wallet_id, (new.created_at / ${RATE_BUCKET_MS}) * ${RATE_BUCKET_MS}, 1)
         on conflict (wallet_id, bucket_start) do update set transfers = b.transfers + 1;
       delete from spend_window_buckets
         where wallet_id = new.wallet_id and asset = new.asset and bucket_start < new.counted_at - ${PRUNE_AFTER_MS};
       delete from rate_window_buckets
         where wallet_id = new.wallet_id and bucket_start < new.created_at - ${PRUNE_AFTER_MS};
     elsif tg_op = 'DELETE' then
       insert into rate_window_buckets as b (wallet_id, bucket_start, transfers)
         values (old.wallet_id, (old.created_at / ${RATE_BUCKET_MS}) * ${RATE_BUCKET_MS}, -1)
         on conflict (wallet_id, bucket_start) do update set transfers = b.transfers - 1;
     end if;
     return null;
   end $$`,
  // AFTER ROW triggers run at the end of each statement, after every row it touches is locked, so a
  // statement never holds a bucket while it waits for a transfer row.
  `create trigger transfers_window_insert after insert or delete on transfers
   for each row execute function transfers_window_buckets()`,
  `create trigger transfers_window_update after update of counts_daily, amount, asset, counted_at, wallet_id
   on transfers for each row
   when (old.counts_daily is distinct from new.counts_daily or old.amount is distinct from new.amount
     or old.asset is distinct from new.asset or old.counted_at is distinct from new.counted_at
     or old.wallet_id is distinct from new.wallet_id)
   execute function transfers_window_buckets()`,
  ...revocationTriggers('postgres'),
];

const createTables = async (db: MigrationDb) => {
  await db.schema
    .createTable('spend_window_buckets')
    .addColumn('wallet_id', 'text', (column) => column.notNull())
    .addColumn('asset', 'text', (column) => column.notNull())
    .addColumn('bucket_start', 'bigint', (column) => column.notNull())
    .addColumn('amount', 'bigint', (column) => column.notNull())
    .addPrimaryKeyConstraint('spend_window_buckets_pk', ['wallet_id', 'asset', 'bucket_start'])
    .execute();
  await db.schema
    .createTable('rate_window_buckets')
    .addColumn('wallet_id', 'text', (column) => column.notNull())
    .addColumn('bucket_start', 'bigint', (column) => column.notNull())
    .addColumn('transfers', 'bigint', (column) => column.notNull())
    .addPrimaryKeyConstraint('rate_window_buckets_pk', ['wallet_id', 'bucket_start'])
    .execute();
  await db.schema
    .createTable('revocation_epoch')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('value', 'bigint', (column) => column.notNull())
    .execute();
  await db.insertInto('revocation_epoch').values({ id: 'auth', value: 0n }).execute();
};

/** The buckets of the transfers already stored, as the triggers would have kept them. */
const backfill = async (db: MigrationDb) => {
  await sql`
    insert into spend_window_buckets (wallet_id, asset, bucket_start, amount)
    select wallet_id, asset, (counted_at / ${sql.lit(SPEND_BUCKET_MS)}) * ${sql.lit(SPEND_BUCKET_MS)}, sum(amount)
    from transfers where counts_daily <> 0
    group by wallet_id, asset, (counted_at / ${sql.lit(SPEND_BUCKET_MS)}) * ${sql.lit(SPEND_BUCKET_MS)}`.execute(
    db,
  );
  await sql`
    insert into rate_window_buckets (wallet_id, bucket_start, transfers)
    select wallet_id, (created_at / ${sql.lit(RATE_BUCKET_MS)}) * ${sql.lit(RATE_BUCKET_MS)}, count(*)
    from transfers
    group by wallet_id, (created_at / ${sql.lit(RATE_BUCKET_MS)}) * ${sql.lit(RATE_BUCKET_MS)}`.execute(db);
};

/**
 * Reservation cost independent of history, and revocation visible to every replica at once:
 * - spend_window_buckets / rate_window_buckets: what counts against the daily budget per wallet, asset
 *   and 5-minute bucket, and the transfers per wallet and 10-second bucket. A reservation sums at most
 *   the buckets of one window (≤ 291 and ≤ 361 rows) instead of every transfer row in it.
 * - revocation_epoch: one row, bumped by any revocation, deletion or change of a session, operator
 *   token or owner; replicas cache principals and read this (one primary-key row) per request.
 */
export const windowBucketsRevocationEpoch: Migration = {
  version: 13,
  name: 'spend and rate window buckets, revocation epoch',
  async up(db, engine) {
    await createTables(db);
    await backfill(db);
    for (const statement of engine === 'sqlite' ? SQLITE_TRIGGERS : POSTGRES_FUNCTIONS) {
      await sql.raw(statement).execute(db);
    }
  },
};
