/**
 * Crashes between any two states of a transfer. Each transfer is stopped dead after a different step
 * (a fault hook throws PipelineHalt: nothing is cleaned up, as if the process died), the daemon is
 * stopped, and a new daemon on the same data directory, database and localnet finishes the work at
 * start-up: every transfer completes exactly once (each recipient is paid its amount, once).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { PipelineHalt, type PipelineStep } from '../../src/daemon/transfers/index.ts';
import type { Localnet } from '../../src/localnet/index.ts';
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
  startLocalnetFor,
  startTransferDaemon,
  type TestOwner,
  type TestWalletSession,
  type TransferDaemon,
} from './harness.ts';

const STEPS: PipelineStep[] = [
  'reserved',
  'built',
  'enclave-signed',
  'fee-payer-signed',
  'persisted',
  'submitted',
  'confirmed',
  'recorded',
];

describeWithSquads('crash recovery', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-recovery-'));
  let localnet: Localnet;
  let daemon: TransferDaemon | undefined;
  let owner: TestOwner;
  let spender: TestWalletSession;
  let approver: TestWalletSession;
  const halts = new Map<string, PipelineStep>();

  const start = async () => {
    daemon = await startTransferDaemon({ dataDir, localnet });
    daemon.transfers.setFaults((step, transfer) => {
      if (halts.get(transfer.destination) === step) {
        halts.delete(transfer.destination);
        throw new PipelineHalt(step);
      }
    });
    return daemon;
  };
  const restart = async (beforeStart?: () => Promise<void>) => {
    await daemon?.close();
    daemon = undefined;
    await beforeStart?.();
    return start();
  };

  afterAll(async () => {
    await daemon?.close();
    await localnet?.close();
  });

  it('stopped after each step, every transfer completes exactly once after a restart', async () => {
    localnet = await startLocalnetFor(dataDir);
    const first = await start();
    owner = await createOwner(first.app, first.store);
    spender = await createWalletSession(first, owner, policy());
    approver = await createWalletSession(first, owner, policy());
    const vaultBefore = await balanceOf(first, spender.wallet.vault);

    const plan = STEPS.map((step, index) => ({
      step,
      to: newRecipient(),
      amount: SOL / 100n + BigInt(index),
    }));
    for (const { step, to, amount } of plan) {
      halts.set(to, step);
      const response = await postTransfer(first.app, spender.session.token, spender.wallet.id, {
        to,
        amount: String(amount),
      });
      // The request dies with the process, whatever was already done.
      expect(response.statusCode, step).toBe(500);
    }
    // The approval tier's proposal, stored signed but never sent.
    const proposalTo = newRecipient();
    halts.set(proposalTo, 'persisted');
    const proposal = await postTransfer(first.app, approver.session.token, approver.wallet.id, {
      to: proposalTo,
      amount: String((SOL * 3n) / 2n),
    });
    expect(proposal.statusCode).toBe(500);

    // As the crash left them: unsent ones signing (or stored signed), sent ones submitted.
    const rows = await first.store.db.selectFrom('transfers').selectAll().execute();
    const statusOf = (to: string) => rows.find((row) => row.destination === to);
    for (const { step, to } of plan) {
      const row = statusOf(to)!;
      const expected =
        step === 'recorded'
          ? 'confirmed'
          : ['persisted', 'submitted', 'confirmed'].includes(step)
            ? 'submitted'
            : 'signing';
      expect(row.status, step).toBe(expected);
      expect(row.signed_transaction !== null, step).toBe(expected !== 'signing');
    }
    expect(statusOf(proposalTo)?.status).toBe('received');
    expect(await balanceOf(first, plan[4]!.to)).toBe(0n);
    expect(await balanceOf(first, plan[5]!.to)).toBe(plan[5]!.amount);

    const second = await restart();
    for (const { step, to, amount } of plan) {
      expect(await balanceOf(second, to), step).toBe(amount);
      expect(statusOf(to) && (await findTransfer(second.store.db, statusOf(to)!.id))?.status, step).toBe(
        'confirmed',
      );
    }
    const total = plan.reduce((sum, { amount }) => sum + amount, 0n);
    expect(vaultBefore - (await balanceOf(second, spender.wallet.vault))).toBe(total);
    const pending = await findTransfer(second.store.db, statusOf(proposalTo)!.id);
    expect(pending?.status).toBe('pending_approval');
    expect(pending?.proposalSignature).not.toBeNull();
  });

  it('stored signed but never sent until its blockhash expired: signed again with a new one, landing once', async () => {
    const current = daemon!;
    const to = newRecipient();
    halts.set(to, 'persisted');
    const crashed = await postTransfer(current.app, spender.session.token, spender.wallet.id, {
      to,
      amount: String(SOL / 50n),
    });
    expect(crashed.statusCode).toBe(500);
    const before = (await current.store.db
      .selectFrom('transfers')
      .selectAll()
      .where('destination', '=', to)
      .executeTakeFirst())!;
    expect(before.status).toBe('submitted');
    const firstSignature = before.signature!;

    // The owner's approval of the pending proposal, sent and then the daemon dies before confirming.
    const [pending] = await current.store.db
      .selectFrom('transfers')
      .selectAll()
      .where('wallet_id', '=', approver.wallet.id)
      .execute();
    halts.set(pending!.destination, 'submitted');
    const approval = await current.app.inject({
      method: 'POST',
      url: `/v1/transfers/${pending!.id}/approve`,
      headers: bearer(owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
    });
    expect(approval.statusCode).toBe(500);

    const third = await restart(async () => {
      // Block height moves 300 past the stored transaction's last valid height (150).
      await fetch(localnet.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'waiaas_advanceClock', params: [120] }),
      });
    });
    const after = await findTransfer(third.store.db, before.id);
    expect(after?.status).toBe('confirmed');
    expect(after?.signature).not.toBe(firstSignature);
    expect((await third.runtime.chain.status(firstSignature)).status).toBe('unknown');
    expect(await balanceOf(third, to)).toBe(SOL / 50n);

    expect((await findTransfer(third.store.db, pending!.id))?.status).toBe('confirmed');
    expect(await balanceOf(third, pending!.destination)).toBe((SOL * 3n) / 2n);
  });
});
