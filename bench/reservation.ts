/**
 * Reservation cost against history: the database work of one reservation (lock the wallet, read the
 * daily and rate windows, insert the transfer, whose trigger updates the window buckets) with 0, 10k
 * and 100k transfer rows of the wallet in its 24 h window, reading the windows from the buckets (what
 * reservations do) next to summing the transfer rows (what they did before, the baseline), in the same
 * run on the same database. Each sample's transaction is rolled back, so the wallet keeps exactly N
 * rows; the commit, the same for both, is not timed. SQLite, and PostgreSQL when given a URL.
 *
 *   node --import tsx bench/reservation.ts [--rows 0,10000,100000] [--samples 2000] [--quick]
 *   node --import tsx bench/reservation.ts --pg postgres://postgres@127.0.0.1:5432/test
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Kysely, sql } from 'kysely';
import { DAILY_WINDOW_SECONDS, RATE_WINDOW_SECONDS } from '../src/core/policy.ts';
import { type Database, insertOwner, insertWallet, openStore, type Store } from '../src/store/index.ts';
import {
  insertTransfer,
  lockWalletGate,
  type NewTransfer,
  type WindowUsage,
  windowUsage,
} from '../src/store/transfers.ts';
import { readWindowUsage } from '../src/store/window-buckets.ts';
import { percentile, writeFigures } from './support/load.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string' },
    samples: { type: 'string' },
    quick: { type: 'boolean', default: false },
    pg: { type: 'string', default: process.env.WAIAAS_BENCH_PG_URL },
    json: { type: 'string' },
  },
});
const ROWS = (args.rows ?? (args.quick ? '0,2000,10000' : '0,10000,100000')).split(',').map(Number);
const SAMPLES = Number(args.samples ?? (args.quick ? 200 : 2000));
const WALLET = 'wal_bench';
const DAY_MS = 86_400_000;

type Reader = (
  db: Kysely<Database>,
  walletId: string,
  asset: string,
  dailySince: bigint,
  rateSince: bigint,
) => Promise<WindowUsage>;

const row = (id: string, nowMs: bigint): NewTransfer => ({
  id,
  walletId: WALLET,
  idempotencyKey: null,
  requestHash: 'bench',
  asset: 'SOL',
  amount: 1_000n,
  destination: 'bench-destination',
  memo: null,
  tier: 'instant',
  status: 'confirmed',
  countsDaily: true,
  executeAfter: null,
  expiresAt: null,
  agentPublicKey: null,
  claimedBy: null,
  claimedUntil: null,
  nowMs,
});

/** Adds rows until the wallet has `target`, spread over the last 24 h (so all count in the window). */
async function fill(store: Store, from: number, target: number): Promise<void> {
  const now = Date.now();
  for (let done = from; done < target; ) {
    const batch = Math.min(1_000, target - done);
    await store.writeTransaction(async (trx) => {
      for (let index = 0; index < batch; index++) {
        const at = BigInt(now - Math.floor(((done + index) / Math.max(target, 1)) * (DAY_MS - 60_000)) - 1);
        await insertTransfer(trx, row(`fill_${done + index}`, at));
      }
    });
    done += batch;
  }
}

class RolledBack extends Error {}

/** One reservation's database work, rolled back; its time in µs. */
async function reserveOnce(store: Store, read: Reader): Promise<number> {
  const started = performance.now();
  await store
    .writeTransaction(async (trx) => {
      const gate = await lockWalletGate(trx, store.engine, WALLET);
      if (gate?.status !== 'active') throw new Error('wallet not active');
      const now = Date.now();
      await read(
        trx,
        WALLET,
        'SOL',
        BigInt(now - DAILY_WINDOW_SECONDS * 1000),
        BigInt(now - RATE_WINDOW_SECONDS * 1000),
      );
      await insertTransfer(trx, row(`tr_${randomBytes(9).toString('base64url')}`, BigInt(now)));
      throw new RolledBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  return (performance.now() - started) * 1000;
}

interface Figure {
  engine: string;
  rows: number;
  buckets: { p50: number; p99: number };
  rowSum: { p50: number; p99: number };
}

async function measure(store: Store, read: Reader) {
  for (let index = 0; index < Math.min(100, SAMPLES); index++) await reserveOnce(store, read);
  const samples: number[] = [];
  for (let index = 0; index < SAMPLES; index++) samples.push(await reserveOnce(store, read));
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

async function runEngine(engine: string, store: Store): Promise<Figure[]> {
  const owner = await insertOwner(store.db, {
    id: 'own_bench',
    name: 'Bench',
    signer: { kind: 'local', keystorePath: '/nowhere' } as never,
    publicKey: 'bench-owner',
    tokenHash: randomBytes(16).toString('hex'),
  });
  await insertWallet(store.db, {
    id: WALLET,
    ownerId: owner.id,
    name: 'Bench',
    status: 'active',
    multisig: 'bench-multisig',
    vault: 'bench-vault',
    policyBundle: '{}',
    policyVersion: 1,
    agentKey: { publicKey: 'bench-agent', sealed: '{}' },
  });
  const figures: Figure[] = [];
  let have = 0;
  for (const target of ROWS) {
    process.stdout.write(`${engine}: ${target} rows … `);
    await fill(store, have, target);
    have = Math.max(have, target);
    // Rolled-back samples leave dead row versions on PostgreSQL; start each size from a clean table, as
    // autovacuum would keep it, for both ways of reading.
    if (store.engine === 'postgres') {
      await sql.raw('vacuum analyze transfers, spend_window_buckets, rate_window_buckets').execute(store.db);
    }
    const buckets = await measure(store, readWindowUsage);
    if (store.engine === 'postgres') {
      await sql.raw('vacuum analyze transfers, spend_window_buckets, rate_window_buckets').execute(store.db);
    }
    const rowSum = await measure(store, windowUsage);
    const check = await readWindowUsage(store.db, WALLET, 'SOL', BigInt(Date.now() - DAY_MS), 0n);
    process.stdout.write(`done (the window holds ${check.spentInWindow / 1_000n} transfers)\n`);
    figures.push({ engine, rows: target, buckets, rowSum });
  }
  return figures;
}

async function main() {
  const figures: Figure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'waiaas-bench-reservation-'));
  try {
    const sqlite = await openStore({ sqlitePath: join(dir, 'bench.sqlite') });
    try {
      figures.push(...(await runEngine('sqlite', sqlite)));
    } finally {
      await sqlite.close();
    }
    if (args.pg) {
      const schema = `waiaas_bench_${randomBytes(4).toString('hex')}`;
      const pg = await openStore({ url: args.pg, schema });
      try {
        figures.push(...(await runEngine('postgres', pg)));
      } finally {
        await sql.raw(`drop schema if exists "${schema}" cascade`).execute(pg.db);
        await pg.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(
    `\nreservation cost in µs (lock, window read, insert + bucket trigger; rolled back), ${SAMPLES} samples each`,
  );
  console.log(
    `${'engine'.padEnd(10)}${'rows'.padStart(9)}${'buckets p50'.padStart(14)}${'p99'.padStart(9)}${'row-sum p50'.padStart(14)}${'p99'.padStart(9)}`,
  );
  for (const figure of figures) {
    console.log(
      `${figure.engine.padEnd(10)}${String(figure.rows).padStart(9)}${figure.buckets.p50.toFixed(0).padStart(14)}${figure.buckets.p99
        .toFixed(0)
        .padStart(9)}${figure.rowSum.p50.toFixed(0).padStart(14)}${figure.rowSum.p99.toFixed(0).padStart(9)}`,
    );
  }
  console.log('target: flat from 0 to 100k rows (buckets); the row sum is the baseline it replaced');
  if (!args.pg) console.log('(PostgreSQL: pass --pg URL or set WAIAAS_BENCH_PG_URL)');
  writeFigures(args.json, { samples: SAMPLES, figures });
}

await main();
