/**
 * The pipeline against a freeze, done the way the owner-acts freeze does it in the database: the
 * wallet flips to `frozen` and its open transfers become `cancelled` (released if not yet signed).
 * New transfers are refused at once; a cancelled transfer is never executed, sent or approved later,
 * wherever it was when the freeze came.
 */
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.ts';
import { findTransfer } from '../../src/store/transfers.ts';
import { bearer, OWNER_PASSPHRASE } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  balanceOf,
  createOwner,
  createWalletSession,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
  type TestOwner,
  type TransferDaemon,
} from './harness.ts';

/** What the freeze owner act writes first (its chain transaction follows and is not needed here). */
async function freezeInDatabase(store: Store, walletId: string): Promise<void> {
  await store.writeTransaction(async (trx) => {
    await trx
      .updateTable('wallets')
      .set({ status: 'frozen', updated_at: BigInt(Date.now()) })
      .where('id', '=', walletId)
      .execute();
    await trx
      .updateTable('transfers')
      .set({
        status: 'cancelled',
        counts_daily: sql<bigint>`case when signed_transaction is null then 0 else counts_daily end`,
        updated_at: BigInt(Date.now()),
      })
      .where('wallet_id', '=', walletId)
      .where('status', 'in', ['received', 'delayed', 'pending_approval', 'signing'])
      .execute();
  });
}

describeWithSquads('transfers and a freeze', () => {
  let daemon: TransferDaemon;
  let owner: TestOwner;
  let offsetMs = 0;

  beforeAll(async () => {
    daemon = await startTransferDaemon({ transfers: { now: () => Date.now() + offsetMs } });
    owner = await createOwner(daemon.app, daemon.store);
  });
  afterEach(() => {
    offsetMs = 0;
    daemon.transfers.setFaults(undefined);
  });
  afterAll(async () => {
    await daemon?.close();
  });

  it('a delayed and a pending transfer cancelled by the freeze never execute, and new ones are refused', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy({ delaySeconds: 1 }));
    const to = newRecipient();
    const delayed = (
      await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL / 2n + 1n) })
    ).json();
    const pending = (
      await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL + 1n) })
    ).json();
    expect([delayed.status, pending.status]).toEqual(['delayed', 'pending_approval']);

    await freezeInDatabase(daemon.store, wallet.id);
    const refused = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: '1000000' });
    expect(refused.json()).toMatchObject({ code: 'WALLET_FROZEN', layer: 'server' });

    // Due by the server's clock now; the worker must find it cancelled, not run it.
    offsetMs = 10_000;
    await daemon.transfers.runWorkersOnce();
    expect((await findTransfer(daemon.store.db, delayed.id))?.status).toBe('cancelled');
    const approve = await daemon.app.inject({
      method: 'POST',
      url: `/v1/transfers/${pending.id}/approve`,
      headers: bearer(owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
    });
    expect(approve.statusCode).toBe(409);
    expect((await findTransfer(daemon.store.db, pending.id))?.status).toBe('cancelled');
    expect(await balanceOf(daemon, to)).toBe(0n);
  });

  it('a transfer cancelled while it is being signed is not sent', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    daemon.transfers.setFaults(async (step, transfer) => {
      if (step === 'fee-payer-signed' && transfer.destination === to)
        await freezeInDatabase(daemon.store, wallet.id);
    });
    const response = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(SOL / 20n),
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().details.status).toBe('cancelled');
    const [row] = await daemon.store.db
      .selectFrom('transfers')
      .selectAll()
      .where('destination', '=', to)
      .execute();
    expect(row).toMatchObject({ status: 'cancelled', signed_transaction: null, counts_daily: 0n });
    expect(await balanceOf(daemon, to)).toBe(0n);
  });
});
