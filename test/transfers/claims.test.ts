/**
 * Delayed work and abandoned work are claimed by exactly one worker, however many replicas poll the
 * same database at once (two stores on one SQLite file, two pools on one PostgreSQL schema, each
 * claiming in parallel). And a reservation's counters read what counts and nothing else.
 */
import { expect, it } from 'vitest';
import type { Store } from '../../src/store/index.ts';
import {
  claimAbandoned,
  claimDueDelayed,
  insertTransfer,
  type TransferRecord,
  transitionTransfer,
  windowUsage,
} from '../../src/store/transfers.ts';
import { insertWallet } from '../../src/store/wallets.ts';
import { forEachEngine } from '../support/databases.ts';

const ROWS = 120;

async function seedWallet(store: Store, walletId: string): Promise<void> {
  await store.db
    .insertInto('owners')
    .values({
      id: `own_${walletId}`,
      name: 'Owner',
      signer_kind: 'local',
      signer_config: '{}',
      public_key: `pk_${walletId}`,
      token_hash: `th_${walletId}`,
      created_at: 1n,
    })
    .execute();
  await insertWallet(store.db, {
    id: walletId,
    ownerId: `own_${walletId}`,
    name: 'Wallet',
    status: 'active',
    multisig: `ms_${walletId}`,
    vault: `v_${walletId}`,
    policyBundle: '{}',
    policyVersion: 1,
    agentKey: { publicKey: `ag_${walletId}`, sealed: '{}' },
  });
}

const row = (
  id: string,
  walletId: string,
  overrides: Partial<Parameters<typeof insertTransfer>[1]> = {},
) => ({
  id,
  walletId,
  idempotencyKey: null,
  requestHash: 'h',
  asset: 'SOL',
  amount: 10n,
  destination: 'd',
  memo: null,
  tier: 'delay' as const,
  status: 'delayed' as const,
  countsDaily: true,
  executeAfter: 1_000n,
  expiresAt: null,
  agentPublicKey: null,
  claimedBy: null,
  claimedUntil: null,
  nowMs: 1_000n,
  ...overrides,
});

/** Two replicas claiming in parallel loops until nothing is left; what each one got. */
async function race(claim: (store: Store, replica: string) => Promise<TransferRecord[]>, stores: Store[]) {
  return Promise.all(
    stores.map(async (store, index) => {
      const got: string[] = [];
      for (;;) {
        const batch = await claim(store, `replica-${index}`);
        if (batch.length === 0) return got;
        got.push(...batch.map((record) => record.id));
      }
    }),
  );
}

forEachEngine((_engine, { makeDatabase }) => {
  it('due delayed transfers are claimed once each by two replicas polling together', async () => {
    const database = await makeDatabase();
    const [a, b] = [await database.open(), await database.open()];
    await seedWallet(a, 'w1');
    await seedWallet(a, 'w2');
    for (let index = 0; index < ROWS; index++) await insertTransfer(a.db, row(`t${index}`, 'w1'));
    await insertTransfer(a.db, row('not-due', 'w1', { executeAfter: 10_000n }));
    await insertTransfer(a.db, row('cancelled', 'w1', { status: 'cancelled' }));
    await insertTransfer(a.db, row('frozen-wallet', 'w2'));
    await a.db.updateTable('wallets').set({ status: 'frozen' }).where('id', '=', 'w2').execute();

    const got = await race(
      (store, replica) =>
        claimDueDelayed(store.db, store.engine, {
          claimer: replica,
          nowMs: 5_000n,
          leaseUntil: 9_000n,
          limit: 7,
        }),
      [a, b],
    );
    const all = got.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(Array.from({ length: ROWS }, (_, index) => `t${index}`).sort());
    const states = await a.db.selectFrom('transfers').select(['id', 'status', 'claimed_by']).execute();
    for (const state of states.filter((s) => s.id.startsWith('t'))) {
      expect(state.status).toBe('signing');
      expect(got[Number(state.claimed_by!.slice(-1))]).toContain(state.id);
    }
    expect(states.find((s) => s.id === 'not-due')?.status).toBe('delayed');
    expect(states.find((s) => s.id === 'cancelled')?.status).toBe('cancelled');
    expect(states.find((s) => s.id === 'frozen-wallet')?.status).toBe('delayed');
  });

  it('abandoned in-flight transfers are taken over once each, and only once their claim lapsed', async () => {
    const database = await makeDatabase();
    const [a, b] = [await database.open(), await database.open()];
    await seedWallet(a, 'w1');
    for (let index = 0; index < ROWS; index++) {
      await insertTransfer(
        a.db,
        row(`t${index}`, 'w1', {
          tier: 'instant',
          status: index % 2 === 0 ? 'signing' : 'submitted',
          claimedBy: 'dead-replica',
          claimedUntil: 2_000n,
        }),
      );
    }
    await insertTransfer(
      a.db,
      row('live', 'w1', { tier: 'instant', status: 'signing', claimedBy: 'alive', claimedUntil: 99_000n }),
    );
    await insertTransfer(
      a.db,
      row('done', 'w1', {
        tier: 'instant',
        status: 'confirmed',
        claimedBy: 'dead-replica',
        claimedUntil: 2_000n,
      }),
    );

    const got = await race(
      (store, replica) =>
        claimAbandoned(store.db, store.engine, {
          claimer: replica,
          nowMs: 5_000n,
          leaseUntil: 9_000n,
          limit: 7,
        }),
      [a, b],
    );
    const all = got.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(Array.from({ length: ROWS }, (_, index) => `t${index}`).sort());
    // At its start-up, the replica that held `live` takes it back without waiting for its claim.
    const mine = await claimAbandoned(a.db, a.engine, {
      claimer: 'alive',
      previousClaimer: 'alive',
      nowMs: 6_000n,
      leaseUntil: 9_000n,
      limit: 10,
    });
    expect(mine.map((record) => record.id)).toEqual(['live']);
  });

  it('the reservation counters sum what still counts in the window, and nothing else', async () => {
    const store = await (await makeDatabase()).open();
    await seedWallet(store, 'w1');
    await seedWallet(store, 'w2');
    await insertTransfer(store.db, row('old', 'w1', { nowMs: 1_000n, amount: 1n }));
    await insertTransfer(store.db, row('in', 'w1', { nowMs: 5_000n, amount: 20n }));
    await insertTransfer(store.db, row('released', 'w1', { nowMs: 5_000n, amount: 300n }));
    await transitionTransfer(
      store.db,
      'released',
      { from: ['delayed'] },
      { status: 'cancelled', counts_daily: 0n, updated_at: 6_000n },
    );
    await insertTransfer(store.db, row('token', 'w1', { nowMs: 5_000n, amount: 4_000n, asset: 'MintMint' }));
    await insertTransfer(store.db, row('other-wallet', 'w2', { nowMs: 5_000n, amount: 50_000n }));
    expect(await windowUsage(store.db, 'w1', 'SOL', 2_000n, 4_000n)).toEqual({
      spentInWindow: 20n,
      transfersInRateWindow: 3,
    });
  });
});
