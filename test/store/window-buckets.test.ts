/**
 * The window buckets a reservation reads (migration 0013's triggers) on both engines: after any mix of
 * inserts, releases (counts_daily = 0), deletions, a freeze cancelling transfers and a rolled-back
 * transaction, they sum exactly what the transfer rows sum from the bucket boundary, which is never
 * less than the rows from the window's own start (never looser than today's L1); stored transfers are
 * counted when the migration runs; old buckets are pruned without changing a window.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { blockOnServer } from '../../src/daemon/owner-acts/freeze.ts';
import { insertOwner, insertWallet, migrations, type Store } from '../../src/store/index.ts';
import {
  deleteUnsignedTransfer,
  insertTransfer,
  type NewTransfer,
  transitionTransfer,
  windowUsage,
} from '../../src/store/transfers.ts';
import { RATE_BUCKET_MS, readWindowUsage, SPEND_BUCKET_MS } from '../../src/store/window-buckets.ts';
import { forEachEngine } from '../support/databases.ts';

const MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const HOUR = 3_600_000n;
const T0 = 1_800_000_000_000n;

/** A small deterministic generator, so a failure can be replayed. */
const prng = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};

async function seedWallet(store: Store, id: string) {
  const owner = await insertOwner(store.db, {
    id: `own_${id}`,
    name: 'Owner',
    signer: { kind: 'local', keystorePath: '/nowhere' } as never,
    publicKey: `owner-${id}`,
    tokenHash: `token-${id}`,
  });
  await insertWallet(store.db, {
    id,
    ownerId: owner.id,
    name: 'Wallet',
    status: 'active',
    multisig: `ms-${id}`,
    vault: `vault-${id}`,
    policyBundle: '{}',
    policyVersion: 1,
    agentKey: { publicKey: `agent-${id}`, sealed: '{}' },
  });
}

let sequence = 0;
const transfer = (walletId: string, overrides: Partial<NewTransfer> = {}): NewTransfer => ({
  id: `tr_${sequence++}`,
  walletId,
  idempotencyKey: null,
  requestHash: 'h',
  asset: 'SOL',
  amount: 1_000n,
  destination: 'd',
  memo: null,
  tier: 'delay',
  status: 'delayed',
  countsDaily: true,
  executeAfter: null,
  expiresAt: null,
  agentPublicKey: null,
  claimedBy: null,
  claimedUntil: null,
  nowMs: T0,
  ...overrides,
});

const floorTo = (ms: bigint, bucket: bigint) => (ms / bucket) * bucket;

/** The buckets against the rows, for one wallet, asset and pair of window starts. */
async function compare(store: Store, walletId: string, asset: string, dailySince: bigint, rateSince: bigint) {
  const buckets = await readWindowUsage(store.db, walletId, asset, dailySince, rateSince);
  const fromBoundary = await windowUsage(
    store.db,
    walletId,
    asset,
    floorTo(dailySince, SPEND_BUCKET_MS),
    floorTo(rateSince, RATE_BUCKET_MS),
  );
  const exact = await windowUsage(store.db, walletId, asset, dailySince, rateSince);
  return { buckets, fromBoundary, exact };
}

forEachEngine((_engine, { makeStore, makeDatabase }) => {
  it('after inserts, releases, deletions, a freeze and a rollback, the buckets sum what the rows sum', async () => {
    const store = await makeStore();
    const wallets = ['wal_a', 'wal_b'];
    for (const id of wallets) await seedWallet(store, id);
    const random = prng(20_261_207);
    const live: { id: string; status: 'delayed' }[] = [];

    for (let step = 0; step < 240; step++) {
      const roll = random();
      if (roll < 0.6 || live.length === 0) {
        // Within 20 hours, so no insert prunes another's bucket.
        const record = await insertTransfer(
          store.db,
          transfer(wallets[Math.floor(random() * 2)]!, {
            asset: random() < 0.7 ? 'SOL' : MINT,
            amount: BigInt(1 + Math.floor(random() * 1_000_000)),
            countsDaily: random() < 0.85,
            nowMs: T0 + BigInt(Math.floor(random() * 20 * 3_600_000)),
          }),
        );
        live.push({ id: record.id, status: 'delayed' });
      } else if (roll < 0.8) {
        const [picked] = live.splice(Math.floor(random() * live.length), 1);
        await transitionTransfer(
          store.db,
          picked!.id,
          { from: ['delayed'] },
          { status: 'cancelled', counts_daily: 0n, updated_at: T0 },
        );
      } else if (roll < 0.95) {
        const [picked] = live.splice(Math.floor(random() * live.length), 1);
        expect(await deleteUnsignedTransfer(store.db, picked!.id, ['delayed'])).toBe(true);
      } else {
        // A transaction that inserted and then failed leaves no trace in the buckets either.
        await store
          .writeTransaction(async (trx) => {
            await insertTransfer(trx, transfer('wal_a', { amount: 777_777_777n, nowMs: T0 + HOUR }));
            throw new Error('rolled back');
          })
          .catch(() => undefined);
      }
    }
    // The freeze's server step cancels every delayed transfer of the wallet in one statement.
    const block = await blockOnServer(store, 'wal_b');
    expect(block.cancelledTransfers.length).toBeGreaterThan(0);

    let nonZero = 0;
    for (let probe = 0; probe < 60; probe++) {
      const walletId = wallets[probe % 2]!;
      const asset = probe % 3 === 0 ? MINT : 'SOL';
      const dailySince = T0 + BigInt(Math.floor(random() * 21 * 3_600_000));
      const rateSince = T0 + BigInt(Math.floor(random() * 21 * 3_600_000));
      const { buckets, fromBoundary, exact } = await compare(store, walletId, asset, dailySince, rateSince);
      expect(buckets).toEqual(fromBoundary);
      expect(buckets.spentInWindow).toBeGreaterThanOrEqual(exact.spentInWindow);
      expect(buckets.transfersInRateWindow).toBeGreaterThanOrEqual(exact.transfersInRateWindow);
      if (walletId === 'wal_a' && buckets.spentInWindow > 0n) nonZero++;
    }
    expect(nonZero).toBeGreaterThan(0);
    // Everything wal_b had counting was cancelled by the freeze.
    expect((await readWindowUsage(store.db, 'wal_b', 'SOL', 0n, T0 + 21n * HOUR)).spentInWindow).toBe(0n);
  });

  it('a spend counts at the last millisecond of the 24 h 10 min window and for up to one bucket more, never less', async () => {
    const store = await makeStore();
    await seedWallet(store, 'wal_edge');
    const spentAt = T0 + 123_456n;
    await insertTransfer(store.db, transfer('wal_edge', { amount: 5n, nowMs: spentAt }));
    const windowMs = 87_000_000n;
    const spentWhen = async (nowMs: bigint) =>
      (await readWindowUsage(store.db, 'wal_edge', 'SOL', nowMs - windowMs, nowMs - HOUR)).spentInWindow;
    // As the rows count it: until now − window passes the spend.
    expect(await spentWhen(spentAt + windowMs)).toBe(5n);
    // The bucket rounds outwards: still counted a little later, and gone one bucket after.
    const bucketEnd = floorTo(spentAt, SPEND_BUCKET_MS) + SPEND_BUCKET_MS;
    expect(await spentWhen(bucketEnd - 1n + windowMs)).toBe(5n);
    expect(await spentWhen(bucketEnd + windowMs)).toBe(0n);
  });

  it('counts the transfers stored before the migration', async () => {
    const database = await makeDatabase();
    const store = await database.open({ migrate: false });
    const before = migrations.filter((migration) => migration.version < 13);
    await store.migrate({ migrations: before });
    await seedWallet(store, 'wal_old');
    await insertTransfer(store.db, transfer('wal_old', { amount: 40n, nowMs: T0 }));
    await insertTransfer(store.db, transfer('wal_old', { amount: 2n, nowMs: T0 + 1n }));
    await insertTransfer(store.db, transfer('wal_old', { amount: 900n, nowMs: T0 + 2n, countsDaily: false }));
    await store.migrate();
    expect(await readWindowUsage(store.db, 'wal_old', 'SOL', T0 - HOUR, T0 - HOUR)).toEqual({
      spentInWindow: 42n,
      transfersInRateWindow: 3,
    });
  });

  it('prunes buckets two days old as new transfers arrive, without changing what a window sums', async () => {
    const store = await makeStore();
    await seedWallet(store, 'wal_prune');
    for (let day = 0n; day < 5n; day++) {
      await insertTransfer(
        store.db,
        transfer('wal_prune', { amount: 10n + day, nowMs: T0 + day * 24n * HOUR }),
      );
    }
    const kept = await store.db
      .selectFrom('transfers')
      .select('id')
      .where('wallet_id', '=', 'wal_prune')
      .execute();
    expect(kept).toHaveLength(5);
    const { rows } = await sql<{ buckets: bigint | string }>`
      select count(*) as buckets from spend_window_buckets where wallet_id = 'wal_prune'`.execute(store.db);
    expect(Number(rows[0]!.buckets)).toBe(3);
    const now = T0 + 4n * 24n * HOUR;
    const { buckets, exact } = await compare(store, 'wal_prune', 'SOL', now - 87_000_000n, now - HOUR);
    expect(buckets).toEqual(exact);
    expect(buckets.spentInWindow).toBe(14n + 13n);
  });
});
