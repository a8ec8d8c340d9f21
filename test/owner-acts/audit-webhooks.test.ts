/**
 * Every owner act leaves an audit entry and an event for the owner's webhooks, written in the same
 * transaction as its state change; enclave restarts are audited as the system's. Through the HTTP
 * API of a whole daemon (localnet with the real Squads program, the enclave as its own process), with
 * a real webhook receiver that verifies signatures.
 */
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditPage } from '../../src/store/audit.ts';
import { bearer, createOwnerWalletSession, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { type Receiver, startReceiver, waitFor } from '../webhooks/receiver.ts';
import { call, fundVault, SOL } from './helpers.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

describeWithSquads('owner acts in the audit log and the webhooks', () => {
  let daemon: TestDaemon;
  let main: Setup;
  let receiver: Receiver;
  const recovery = Keypair.generate().publicKey.toBase58();

  beforeAll(async () => {
    daemon = await startTestDaemon();
    main = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    await fundVault(daemon, main.wallet.vault, 2n * SOL);
    receiver = await startReceiver();
    const created = await daemon.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: bearer(main.owner.token),
      payload: { url: receiver.url },
    });
    expect(created.statusCode).toBe(201);
    receiver.secret = created.json().secret;
  });
  afterAll(async () => {
    await receiver?.close();
    await daemon?.close();
  });

  /** The wallet's audit entries of `kind`, oldest first. */
  const entries = async (kind: string) =>
    (await auditPage(daemon.runtime.store.db, { walletId: main.wallet.id, kind, limit: 50 }))
      .reverse()
      .map((row) => ({
        actor: { role: row.actor_role, id: row.actor_id },
        subject: row.subject,
        details: JSON.parse(row.details) as Record<string, unknown>,
      }));

  const delivered = (type: string) =>
    waitFor(() =>
      receiver.processed.find((event) => event.type === type && event.walletId === main.wallet.id),
    );

  const owner = () => ({ role: 'owner', id: main.owner.id });
  const ownerReason = { code: 'OWNER_FREEZE', detail: {}, at: expect.any(String) };
  /** The agent's SOL limit re-created with the whole day left: nothing was spent. */
  const fullDay = {
    asset: 'SOL',
    action: 'create',
    amount: '5000000000',
    spentThisPeriod: '0',
    remaining: '5000000000',
  };

  /** The wallet's events of `type` in the outbox: every event there is, delivered or not. */
  const outboxEvents = (type: string) =>
    daemon.runtime.store.db
      .selectFrom('webhook_outbox')
      .select('event_id')
      .where('wallet_id', '=', main.wallet.id)
      .where('type', '=', type)
      .execute();

  it('freeze: an entry with the server step (and the wallet.frozen event) and one with the enclave and chain steps', async () => {
    const frozen = await call(daemon, {
      url: `/v1/wallets/${main.wallet.id}/freeze`,
      token: main.owner.token,
    });
    expect(frozen.status).toBe(200);
    const recorded = await entries('owner.freeze');
    expect(recorded).toEqual([
      {
        actor: owner(),
        subject: expect.stringMatching(/^act_/),
        details: {
          step: 'server',
          changed: true,
          reason: ownerReason,
          cancelledTransfers: [],
          inFlightTransfers: [],
        },
      },
      {
        actor: owner(),
        subject: recorded[0]?.subject,
        details: {
          step: 'enclave+chain',
          status: 'done',
          enclave: { status: 'done', policyVersion: 2 },
          chain: { status: 'done', signature: frozen.body.chain.signature },
          // Nothing spent yet: the freeze removed a limit whose period had spent nothing.
          limits: [{ asset: 'SOL', action: 'remove', amount: '0', spentThisPeriod: '0', remaining: '0' }],
        },
      },
    ]);
    const event = await delivered('wallet.frozen');
    expect(event.data).toEqual({
      by: 'owner',
      reason: ownerReason,
      cancelledTransfers: [],
      inFlightTransfers: [],
    });

    // Repeated: recorded as an act (changed: false), but the owner is not told the wallet froze again.
    const again = await call(daemon, {
      url: `/v1/wallets/${main.wallet.id}/freeze`,
      token: main.owner.token,
    });
    expect(again.body.server.changed).toBe(false);
    expect((await entries('owner.freeze')).map((entry) => entry.details.changed)).toEqual([
      true,
      undefined,
      false,
      undefined,
    ]);
    // The events are written with the acts (the answers came after the commit): one, not two.
    expect(await outboxEvents('wallet.frozen')).toHaveLength(1);
    expect(receiver.processed.filter((event) => event.type === 'wallet.frozen')).toHaveLength(1);
  });

  it('resume: one entry and the wallet.resumed event, written with the status change', async () => {
    const resumed = await call(daemon, {
      url: `/v1/wallets/${main.wallet.id}/resume`,
      token: main.owner.token,
      body: {},
    });
    expect(resumed.status).toBe(200);
    expect(await entries('owner.resume')).toEqual([
      {
        actor: owner(),
        subject: expect.stringMatching(/^act_/),
        details: {
          policyVersion: 3,
          agent: main.wallet.agentPublicKey,
          signature: resumed.body.chain.signature,
          wasFrozen: true,
          chain: 'done',
          limits: [fullDay],
        },
      },
    ]);
    const event = await delivered('wallet.resumed');
    expect(event.data).toEqual({
      policyVersion: 3,
      agentPublicKey: main.wallet.agentPublicKey,
      limits: [fullDay],
    });
  });

  it('rotate: one entry and the wallet.agent_rotated event naming both keys', async () => {
    const rotated = await call(daemon, {
      url: `/v1/wallets/${main.wallet.id}/rotate-agent-key`,
      token: main.owner.token,
    });
    expect(rotated.status).toBe(200);
    const keys = {
      oldAgentPublicKey: main.wallet.agentPublicKey,
      agentPublicKey: rotated.body.agentPublicKey,
    };
    expect(await entries('owner.rotate')).toEqual([
      {
        actor: owner(),
        subject: expect.stringMatching(/^act_/),
        details: { ...keys, chain: 'done', signature: rotated.body.chain.signature, limits: [fullDay] },
      },
    ]);
    expect((await delivered('wallet.agent_rotated')).data).toEqual({
      ...keys,
      signature: rotated.body.chain.signature,
    });
  });

  it('withdraw: the landed withdrawal recorded and announced; one refused before signing leaves nothing', async () => {
    const withdrawn = await call(daemon, {
      url: `/v1/wallets/${main.wallet.id}/withdraw`,
      token: main.owner.token,
      body: { to: recovery, amount: String(SOL / 2n) },
    });
    expect(withdrawn.status).toBe(200);
    const facts = {
      to: recovery,
      asset: 'SOL',
      amount: String(SOL / 2n),
      signature: withdrawn.body.signature,
    };
    expect((await delivered('wallet.withdrawn')).data).toEqual(facts);

    const refused = await call(daemon, {
      url: `/v1/wallets/${main.wallet.id}/withdraw`,
      token: main.owner.token,
      body: { to: recovery, amount: String(100n * SOL) },
    });
    expect([refused.status, refused.body.code]).toEqual([409, 'INSUFFICIENT_FUNDS']);
    expect(await entries('owner.withdraw')).toEqual([
      { actor: owner(), subject: expect.stringMatching(/^act_/), details: { outcome: 'done', ...facts } },
    ]);
    expect(await outboxEvents('wallet.withdrawn')).toHaveLength(1);
    expect(receiver.processed.filter((event) => event.type === 'wallet.withdrawn')).toHaveLength(1);
  });

  it('policy change: an entry when the enclave and server take it, and one when the chain limits are replaced', async () => {
    const policy = starterPolicy({
      version: 10,
      assets: {
        SOL: {
          perTransaction: '1000000000',
          daily: '3000000000',
          tiers: {
            instantMax: '100000000',
            notifyMax: '500000000',
            delayMax: '1000000000',
            delaySeconds: 900,
          },
        },
      },
    });
    const changed = await call(daemon, {
      method: 'PUT',
      url: `/v1/wallets/${main.wallet.id}/policy`,
      token: main.owner.token,
      body: { policy },
    });
    expect(changed.status).toBe(200);
    const recorded = await entries('policy.changed');
    expect(recorded.map((entry) => entry.details)).toEqual([
      {
        step: 'enclave+server',
        version: 10,
        previousVersion: 3,
        policyHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      {
        step: 'chain',
        version: 10,
        chain: { status: 'done', signature: changed.body.chain.signature },
        limits: [{ ...fullDay, amount: '3000000000', remaining: '3000000000' }],
      },
    ]);
    expect(recorded.every((entry) => entry.actor.role === 'owner' && entry.actor.id === main.owner.id)).toBe(
      true,
    );
  });

  it('the chain of entries verifies, and no secret reached it', async () => {
    const verify = await daemon.app.inject({ url: '/v1/audit/verify', headers: bearer(main.owner.token) });
    expect(verify.json()).toMatchObject({ ok: true });
    const rows = await daemon.runtime.store.db
      .selectFrom('audit_log')
      .select(['details', 'subject'])
      .execute();
    const text = JSON.stringify(rows);
    expect(text).not.toContain(main.owner.token);
    expect(text).not.toContain(main.session.token);
    expect(text).not.toContain(receiver.secret);
    expect(text).not.toContain('owner passphrase');
  });

  it('an enclave restart is audited as the system’s, with how it exited', async () => {
    const { enclave } = daemon.runtime;
    const pid = enclave.status().pid;
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await waitFor(
      () => (enclave.status().pid !== pid && enclave.status().state === 'up') || undefined,
      30_000,
    );
    const [restart] = await auditPage(daemon.runtime.store.db, { kind: 'enclave.restarted', limit: 5 });
    expect(restart).toMatchObject({ actor_role: 'system', actor_id: null, wallet_id: null });
    expect(JSON.parse(restart!.details)).toMatchObject({ restarts: 1, lastExit: { signal: 'SIGKILL' } });
  });
});
