/**
 * Each tier end to end on the localnet with the real Squads program: instant and notify confirm at
 * once; delay waits (by the server's clock and by the enclave's own) and can be cancelled before;
 * approval is proposed by the agent, waits for the owner, executes when the owner approves, is
 * rejected when the owner says no, and expires when the owner says nothing.
 */
import { PublicKey } from '@solana/web3.js';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import type { TransferEvent } from '../../src/daemon/transfers/index.ts';
import { buildAgentTransfer, readPendingTransfer } from '../../src/squads/index.ts';
import { findTransfer } from '../../src/store/transfers.ts';
import { bearer, OWNER_PASSPHRASE } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  advanceLocalnetClock,
  balanceOf,
  createOwner,
  createWalletSession,
  getTransfer,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
  type TestOwner,
  type TransferDaemon,
  waitForTransfer,
} from './harness.ts';

describeWithSquads('transfer tiers', () => {
  let daemon: TransferDaemon;
  let owner: TestOwner;
  let offsetMs = 0;
  const events: TransferEvent[] = [];

  beforeAll(async () => {
    daemon = await startTransferDaemon({ transfers: { now: () => Date.now() + offsetMs } });
    daemon.transfers.events.on((event) => events.push(event));
    owner = await createOwner(daemon.app, daemon.store);
  });
  afterEach(() => {
    offsetMs = 0;
  });
  afterAll(async () => {
    await daemon?.close();
  });

  const ownerPost = (path: string, unlock?: string) =>
    daemon.app.inject({
      method: 'POST',
      url: path,
      headers: bearer(owner.token, unlock === undefined ? {} : { 'x-owner-unlock': unlock }),
    });

  it('instant and notify confirm on chain at once; notify leaves an event for the owner', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const vaultBefore = await balanceOf(daemon, wallet.vault);

    const instant = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(SOL / 20n),
    });
    expect(instant.statusCode).toBe(200);
    expect(instant.json()).toMatchObject({
      status: 'confirmed',
      tier: 'instant',
      amount: String(SOL / 20n),
      to,
    });
    const notify = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL / 4n) });
    expect(notify.statusCode).toBe(200);
    expect(notify.json()).toMatchObject({ status: 'confirmed', tier: 'notify' });

    expect(await balanceOf(daemon, to)).toBe(SOL / 20n + SOL / 4n);
    expect(vaultBefore - (await balanceOf(daemon, wallet.vault))).toBe(SOL / 20n + SOL / 4n);
    const status = await daemon.runtime.chain.status(notify.json().signature);
    expect(status.status).toBe('confirmed');

    const notices = events.filter((event) => event.type === 'transfer.notify');
    expect(notices.map((event) => event.transfer.id)).toEqual([notify.json().id]);
    const stored = await getTransfer(daemon.app, owner.token, instant.json().id);
    expect(stored.json()).toMatchObject({ status: 'confirmed', signature: instant.json().signature });
  });

  it('instant: signed with a blockhash that expired before it landed, it is signed again and lands once', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const stored: string[] = [];
    daemon.transfers.setFaults((step, transfer) => {
      if (step === 'persisted' && transfer.destination === to) stored.push(transfer.signature!);
    });
    await daemon.runtime.chain.recentBlockhash();
    // The chain jumps 300 slots while the daemon's shared blockhash is still the old one.
    await daemon.runtime.chain.rpc.call('waiaas_advanceClock', [120]);
    const response = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(SOL / 20n),
    });
    daemon.transfers.setFaults(undefined);
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe('confirmed');
    expect(stored).toHaveLength(2);
    expect(response.json().signature).toBe(stored[1]);
    expect((await daemon.runtime.chain.status(stored[0]!)).status).toBe('unknown');
    expect(await balanceOf(daemon, to)).toBe(SOL / 20n);
  });

  it('delay: waits delaySeconds, the enclave refuses to sign it earlier by its own clock, then it confirms', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy({ delaySeconds: 2 }));
    const to = newRecipient();
    const amount = (SOL * 7n) / 10n;
    const accepted = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(amount) });
    expect(accepted.statusCode).toBe(202);
    const transfer = accepted.json();
    expect(transfer).toMatchObject({ status: 'delayed', tier: 'delay' });
    expect(Date.parse(transfer.executeAfter) - Date.parse(transfer.createdAt)).toBe(2000);

    // A compromised daemon asking the enclave directly, before the delay: refused by the enclave.
    const { blockhash } = await daemon.runtime.chain.recentBlockhash();
    const early = buildAgentTransfer({
      multisig: new PublicKey(wallet.multisig),
      agent: new PublicKey(wallet.agentPublicKey),
      asset: 'SOL',
      amount,
      destination: new PublicKey(to),
      feePayer: daemon.runtime.feePayer.publicKey,
      recentBlockhash: blockhash,
    });
    const refusal = await daemon.runtime.enclave
      .use((client) => client.sign(wallet.id, early.message.serialize(), { requestId: transfer.id }))
      .catch((error: unknown) => error);
    expect(isWaiaasError(refusal, 'DELAY_NOT_ELAPSED')).toBe(true);
    expect((refusal as { layer?: string }).layer).toBe('enclave');
    expect(await balanceOf(daemon, to)).toBe(0n);

    const done = await waitForTransfer(
      daemon.app,
      session.token,
      transfer.id,
      (body) => body.status === 'confirmed',
    );
    expect(done).toMatchObject({ status: 'confirmed', tier: 'delay' });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(transfer.executeAfter));
    expect(await balanceOf(daemon, to)).toBe(amount);
  });

  it('delay: due by the server clock but not by the enclave’s, it goes back to waiting and nothing moves', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy({ delaySeconds: 900 }));
    const to = newRecipient();
    const accepted = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(SOL / 2n + 1n),
    });
    expect(accepted.statusCode).toBe(202);
    const id = accepted.json().id;

    // The server and the chain both see the delay as past; only the enclave's own clock does not.
    offsetMs = 901_000;
    await advanceLocalnetClock(daemon, 901);
    await daemon.transfers.runWorkersOnce();
    const record = await findTransfer(daemon.store.db, id);
    expect(record?.status).toBe('delayed');
    // Rescheduled to when the enclave will sign: what the enclave still waits (about 900 s), from the
    // server's own now; so by the server's clock it is not due again until then.
    expect(Number(record!.executeAfter) - (Date.now() + offsetMs)).toBeGreaterThan(890_000);
    expect(await balanceOf(daemon, to)).toBe(0n);
    // Not claimed again on the next rounds (it used to be, at every tick, while the clocks disagreed:
    // an owner's cancel landing while it was claimed failed with 409).
    await daemon.transfers.runWorkersOnce();
    await daemon.transfers.runWorkersOnce();
    expect(await findTransfer(daemon.store.db, id)).toMatchObject({
      status: 'delayed',
      updatedAt: record!.updatedAt,
    });

    const cancelled = await ownerPost(`/v1/transfers/${id}/cancel`);
    expect(cancelled.json().status).toBe('cancelled');
  });

  it('delay: the owner cancels it before it is due; its budget is released and it never executes', async () => {
    const { wallet, session } = await createWalletSession(
      daemon,
      owner,
      policy({ daily: SOL, delayMax: SOL, perTransaction: SOL }),
    );
    const to = newRecipient();
    const delayed = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String((SOL * 7n) / 10n),
    });
    expect(delayed.json().status).toBe('delayed');
    const over = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL / 2n) });
    expect(over.statusCode).toBe(403);
    expect(over.json()).toMatchObject({ code: 'POLICY_DAILY_LIMIT', layer: 'server' });

    const byAgent = await daemon.app.inject({
      method: 'POST',
      url: `/v1/transfers/${delayed.json().id}/cancel`,
      headers: bearer(session.token),
    });
    expect(byAgent.statusCode).toBe(403);
    const cancelled = await ownerPost(`/v1/transfers/${delayed.json().id}/cancel`);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    expect((await ownerPost(`/v1/transfers/${delayed.json().id}/cancel`)).statusCode).toBe(409);

    const fits = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL / 2n) });
    expect(fits.statusCode).toBe(200);
    offsetMs = 2_000_000;
    await daemon.transfers.runWorkersOnce();
    expect((await findTransfer(daemon.store.db, delayed.json().id))?.status).toBe('cancelled');
    expect(await balanceOf(daemon, to)).toBe(SOL / 2n);
  });

  it('approval: proposed and approved by the agent on chain, waits, and executes when the owner approves', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const amount = (SOL * 3n) / 2n;
    const accepted = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(amount) });
    expect(accepted.statusCode).toBe(202);
    const transfer = accepted.json();
    expect(transfer).toMatchObject({ status: 'pending_approval', tier: 'approval' });
    expect(Date.parse(transfer.expiresAt) - Date.parse(transfer.updatedAt)).toBe(3_600_000);

    const onChain = await readPendingTransfer(
      daemon.runtime.chain.connection,
      new PublicKey(wallet.multisig),
      BigInt(transfer.transactionIndex),
    );
    expect(onChain.proposal?.status).toBe('Active');
    expect(onChain.proposal?.approved.map((key) => key.toBase58())).toEqual([wallet.agentPublicKey]);

    const inbox = await daemon.app.inject({
      method: 'GET',
      url: '/v1/approvals',
      headers: bearer(owner.token),
    });
    expect(inbox.json().items.map((item: { id: string }) => item.id)).toContain(transfer.id);
    const agentInbox = await daemon.app.inject({
      method: 'GET',
      url: '/v1/approvals',
      headers: bearer(session.token),
    });
    expect(agentInbox.statusCode).toBe(403);

    expect(await balanceOf(daemon, to)).toBe(0n);
    const noFactor = await ownerPost(`/v1/transfers/${transfer.id}/approve`);
    expect(noFactor.statusCode).toBe(401);
    const wrongFactor = await ownerPost(`/v1/transfers/${transfer.id}/approve`, 'not the passphrase');
    expect(wrongFactor.statusCode).toBe(401);
    expect((await findTransfer(daemon.store.db, transfer.id))?.status).toBe('pending_approval');

    const approved = await ownerPost(`/v1/transfers/${transfer.id}/approve`, OWNER_PASSPHRASE);
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'confirmed', tier: 'approval' });
    expect(await balanceOf(daemon, to)).toBe(amount);
    const executed = await readPendingTransfer(
      daemon.runtime.chain.connection,
      new PublicKey(wallet.multisig),
      BigInt(transfer.transactionIndex),
    );
    // Executed and closed in the same transaction: the rent went back to the fee payer.
    expect(executed).toEqual({ vaultTransaction: null, proposal: null });
    expect((await ownerPost(`/v1/transfers/${transfer.id}/approve`, OWNER_PASSPHRASE)).statusCode).toBe(409);
  });

  it('approval: the owner rejects it (voted down on chain) and it can no longer be approved', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const transfer = (
      await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL + 1n) })
    ).json();
    expect(transfer.status).toBe('pending_approval');

    const rejected = await ownerPost(`/v1/transfers/${transfer.id}/reject`, OWNER_PASSPHRASE);
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json().status).toBe('rejected');
    expect(rejected.json().rejectionSignature).toBeDefined();
    const onChain = await readPendingTransfer(
      daemon.runtime.chain.connection,
      new PublicKey(wallet.multisig),
      BigInt(transfer.transactionIndex),
    );
    // Voted down and closed in the same transaction: the rent went back to the fee payer.
    expect(onChain).toEqual({ vaultTransaction: null, proposal: null });

    expect((await ownerPost(`/v1/transfers/${transfer.id}/approve`, OWNER_PASSPHRASE)).statusCode).toBe(409);
    expect(await balanceOf(daemon, to)).toBe(0n);
    expect(
      events.some((event) => event.type === 'transfer.rejected' && event.transfer.id === transfer.id),
    ).toBe(true);
  });

  it('approval: undecided after approvalTimeoutSeconds it expires, and an approval after that is refused', async () => {
    const { wallet, session } = await createWalletSession(
      daemon,
      owner,
      policy({ approvalTimeoutSeconds: 60 }),
    );
    const to = newRecipient();
    const transfer = (
      await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL + 2n) })
    ).json();
    expect(transfer.status).toBe('pending_approval');

    offsetMs = 59_000;
    await daemon.transfers.runWorkersOnce();
    expect((await findTransfer(daemon.store.db, transfer.id))?.status).toBe('pending_approval');
    offsetMs = 61_000;
    await daemon.transfers.runWorkersOnce();
    expect((await findTransfer(daemon.store.db, transfer.id))?.status).toBe('expired');
    expect(
      events.some((event) => event.type === 'transfer.expired' && event.transfer.id === transfer.id),
    ).toBe(true);

    const late = await ownerPost(`/v1/transfers/${transfer.id}/approve`, OWNER_PASSPHRASE);
    expect(late.statusCode).toBe(409);
    expect(late.json().details.status).toBe('expired');
    expect(await balanceOf(daemon, to)).toBe(0n);
  });
});
