/**
 * The database side of the owner acts on both engines: the freeze's server block (wallet status,
 * cancelled transfers, the policy kept for resume, one winner among concurrent freezes) and the
 * server's count of the daily budget shown by the usage endpoint.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { DAILY_WINDOW_SECONDS } from '../../src/core/policy.ts';
import { blockOnServer } from '../../src/daemon/owner-acts/freeze.ts';
import { serverSpent } from '../../src/daemon/owner-acts/wallet-usage.ts';
import {
  findWallet,
  insertOwner,
  insertWallet,
  type Store,
  setWalletPolicy,
  type TransferStatus,
} from '../../src/store/index.ts';
import { latestOwnerAct } from '../../src/store/owner-acts.ts';
import {
  holdCountedSpends,
  requestedSpentSince,
  sentUnderLimitSince,
} from '../../src/store/wallet-budget.ts';
import { starterPolicy } from '../support/api.ts';
import { forEachEngine } from '../support/databases.ts';

const key = () => `${randomBytes(4).toString('hex')}`;
const MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';

async function seedWallet(store: Store) {
  const owner = await insertOwner(store.db, {
    id: `own_${key()}`,
    name: 'Owner',
    signer: { kind: 'local', keystorePath: '/nowhere' } as never,
    publicKey: `owner-${key()}`,
    tokenHash: key(),
  });
  const policy = starterPolicy();
  return insertWallet(store.db, {
    id: `wal_${key()}`,
    ownerId: owner.id,
    name: 'Wallet',
    status: 'active',
    multisig: `ms-${key()}`,
    vault: `vault-${key()}`,
    policyBundle: JSON.stringify({ walletId: 'x', policy, ownerPublicKey: 'x', signature: 'x' }),
    policyVersion: policy.version,
    agentKey: { publicKey: `agent-${key()}`, sealed: '{}' },
  });
}

async function insertTransfer(
  store: Store,
  walletId: string,
  values: {
    status: TransferStatus;
    amount?: bigint;
    asset?: string;
    countsDaily?: bigint;
    countedAt?: bigint;
    updatedAt?: bigint;
  },
) {
  const id = `tr_${key()}`;
  const now = BigInt(Date.now());
  await store.db
    .insertInto('transfers')
    .values({
      id,
      wallet_id: walletId,
      idempotency_key: null,
      request_hash: id,
      asset: values.asset ?? 'SOL',
      amount: values.amount ?? 1_000n,
      destination: 'somewhere',
      memo: null,
      tier: 'instant',
      status: values.status,
      counts_daily: values.countsDaily ?? 1n,
      counted_at: values.countedAt ?? now,
      execute_after: null,
      expires_at: null,
      agent_public_key: null,
      signature: null,
      signed_transaction: null,
      last_valid_block_height: null,
      transaction_index: null,
      error_code: null,
      error_detail: null,
      claimed_by: null,
      claimed_until: null,
      created_at: values.countedAt ?? now,
      updated_at: values.updatedAt ?? values.countedAt ?? now,
    })
    .execute();
  return id;
}

forEachEngine((_engine, { makeStore }) => {
  it('blocks a wallet, cancels what has not reached signing, and keeps the policy to resume with', async () => {
    const store = await makeStore();
    const wallet = await seedWallet(store);
    const open = [
      await insertTransfer(store, wallet.id, { status: 'received' }),
      await insertTransfer(store, wallet.id, { status: 'delayed' }),
      await insertTransfer(store, wallet.id, { status: 'pending_approval' }),
    ];
    const inFlight = [
      await insertTransfer(store, wallet.id, { status: 'signing' }),
      await insertTransfer(store, wallet.id, { status: 'submitted' }),
    ];
    const done = await insertTransfer(store, wallet.id, { status: 'confirmed' });

    const block = await blockOnServer(store, wallet.id);
    expect(block.changed).toBe(true);
    expect([...block.cancelledTransfers].sort()).toEqual([...open].sort());
    expect([...block.inFlightTransfers].sort()).toEqual([...inFlight].sort());
    expect(block.restore).toEqual(starterPolicy());
    expect((await findWallet(store.db, wallet.id))?.status).toBe('frozen');
    const rows = await store.db
      .selectFrom('transfers')
      .select(['id', 'status', 'counts_daily'])
      .where('wallet_id', '=', wallet.id)
      .execute();
    const status = Object.fromEntries(rows.map((row) => [row.id, [row.status, row.counts_daily]]));
    for (const id of open) expect(status[id]).toEqual(['cancelled', 0n]);
    for (const id of inFlight) expect(status[id]?.[1]).toBe(1n);
    expect(status[done]).toEqual(['confirmed', 1n]);

    // The enclave's frozen policy replaced the one in force; a second freeze still keeps the real one.
    await setWalletPolicy(
      store.db,
      wallet.id,
      JSON.stringify({ policy: { ...starterPolicy(), version: 2, assets: {} } }),
      2,
    );
    const again = await blockOnServer(store, wallet.id);
    expect(again).toMatchObject({ changed: false, cancelledTransfers: [], restore: starterPolicy() });
    expect((await latestOwnerAct(store.db, wallet.id, 'freeze'))?.detail['restorePolicy']).toEqual(
      starterPolicy(),
    );
  });

  it('lets exactly one of many concurrent freezes flip the wallet', async () => {
    const store = await makeStore();
    const wallet = await seedWallet(store);
    const blocks = await Promise.all(Array.from({ length: 6 }, () => blockOnServer(store, wallet.id)));
    expect(blocks.filter((block) => block.changed)).toHaveLength(1);
    const acts = await store.db
      .selectFrom('owner_acts')
      .select('id')
      .where('wallet_id', '=', wallet.id)
      .execute();
    expect(acts).toHaveLength(6);
  });

  it('counts the daily budget from transfers that count, inside the rolling window, per asset', async () => {
    const store = await makeStore();
    const wallet = await seedWallet(store);
    const now = Date.now();
    const windowStart = BigInt(now - DAILY_WINDOW_SECONDS * 1000);
    await insertTransfer(store, wallet.id, { status: 'confirmed', amount: 300n });
    await insertTransfer(store, wallet.id, { status: 'signing', amount: 200n });
    await insertTransfer(store, wallet.id, { status: 'confirmed', amount: 50n, countedAt: windowStart });
    await insertTransfer(store, wallet.id, {
      status: 'confirmed',
      amount: 7_000n,
      countedAt: windowStart - 1n,
    });
    await insertTransfer(store, wallet.id, { status: 'failed', amount: 9_000n, countsDaily: 0n });
    await insertTransfer(store, wallet.id, {
      status: 'confirmed',
      amount: 4_000_000_000_000_000_000n,
      asset: MINT,
    });
    await insertTransfer(store, wallet.id, {
      status: 'confirmed',
      amount: 4_000_000_000_000_000_000n,
      asset: MINT,
    });
    const other = await seedWallet(store);
    await insertTransfer(store, other.id, { status: 'confirmed', amount: 1n });

    expect(await serverSpent(store, wallet.id, now)).toEqual(
      new Map([
        ['SOL', 550n],
        [MINT, 8_000_000_000_000_000_000n],
      ]),
    );
  });

  it('an owner act that carries a period into a re-created limit holds its transfers in the server window', async () => {
    const store = await makeStore();
    const wallet = await seedWallet(store);
    const now = Date.now();
    const hour = 3_600_000;
    // The chain's period began 20 h ago; 600 was spent in it, half of that 19 h ago.
    const periodStart = BigInt(now - 20 * hour);
    await insertTransfer(store, wallet.id, {
      status: 'confirmed',
      amount: 300n,
      countedAt: periodStart + BigInt(hour),
    });
    await insertTransfer(store, wallet.id, {
      status: 'confirmed',
      amount: 300n,
      countedAt: BigInt(now - hour),
    });
    await insertTransfer(store, wallet.id, {
      status: 'confirmed',
      amount: 5n,
      countedAt: periodStart - BigInt(2 * hour),
    });
    await insertTransfer(store, wallet.id, {
      status: 'confirmed',
      amount: 7n,
      asset: MINT,
      countedAt: periodStart + 1n,
    });

    // The act re-creates the SOL limit now, carrying the 600 spent since periodStart (less the margin).
    const held = await holdCountedSpends(store.db, wallet.id, 'SOL', periodStart - 600_000n, BigInt(now));
    expect(held).toBe(2);
    // Six hours later the chain still counts them (its new period began at the act); so does the server.
    // The 5 spent before the chain's period is not carried, and leaves the window as it would have.
    const later = now + 6 * hour;
    expect((await serverSpent(store, wallet.id, later)).get('SOL')).toBe(600n);
    // Without the hold the transfer of 19 h before the act would have left the server's window.
    expect(later - DAILY_WINDOW_SECONDS * 1000).toBeGreaterThan(Number(periodStart) + hour);
    // What was requested when is unchanged: the monitor's velocity rule does not see them again.
    expect(await requestedSpentSince(store.db, wallet.id, BigInt(now - 30 * 60_000))).toEqual(new Map());
  });

  it('what the daemon sent under the limit since a time: in flight, or confirmed since then', async () => {
    const store = await makeStore();
    const wallet = await seedWallet(store);
    const since = BigInt(Date.now() - 60_000);
    await insertTransfer(store, wallet.id, { status: 'confirmed', amount: 100n });
    await insertTransfer(store, wallet.id, { status: 'submitted', amount: 20n, countedAt: since - 10_000n });
    await insertTransfer(store, wallet.id, { status: 'signing', amount: 3n });
    await insertTransfer(store, wallet.id, { status: 'confirmed', amount: 4_000n, countedAt: since - 1n });
    await insertTransfer(store, wallet.id, { status: 'delayed', amount: 50_000n });
    await insertTransfer(store, wallet.id, { status: 'failed', amount: 600_000n, countsDaily: 0n });
    expect(await sentUnderLimitSince(store.db, wallet.id, 'SOL', since)).toBe(123n);
    expect(await sentUnderLimitSince(store.db, wallet.id, MINT, since)).toBe(0n);
  });
});
