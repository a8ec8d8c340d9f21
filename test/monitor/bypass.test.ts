/**
 * Spending that bypassed the daemon is an alarm. A transfer signed with the agent key but not sent by
 * the daemon's pipeline (the enclave signs it when asked directly, as a leaked key would sign it) lands
 * on chain; the monitor, reading the agent's spending limit, sees the vault spent more than the daemon
 * sent and halts the wallet: frozen on the server, the owner alerted (webhook + audit), and
 * GET /v1/wallets/:id says why. Spending the daemon did send (and what owner acts carried into a
 * re-created limit) raises nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMonitor, type Monitor } from '../../src/daemon/monitor/index.ts';
import { auditPage } from '../../src/store/audit.ts';
import { findWallet } from '../../src/store/index.ts';
import { call, enclaveSignedTransfer, enclaveVerdict, fundVault, submit } from '../owner-acts/helpers.ts';
import { bearer, createOwnerWalletSession, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { type Receiver, startReceiver, waitFor } from '../webhooks/receiver.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

const SOL = 1_000_000_000n;
const WEBHOOK_SECRET = 'bypass-test-webhook-secret-0123456789';
const POLL_MS = 100;
const CHAIN_CHECK_MS = 300;

// The other rules stay out of the way: only the chain check is under test.
const config = `
monitor_poll_ms = ${POLL_MS}
monitor_chain_check_ms = ${CHAIN_CHECK_MS}
monitor_velocity_percent = 0
monitor_refusals = 0
monitor_outside_hours = 0
monitor_enclave_restarts = 0
`;

describeWithSquads('spending that bypassed the daemon', () => {
  let daemon: TestDaemon;
  let receiver: Receiver;
  /** A monitor of its own that reads the chain on every pass, for passes that must find nothing. */
  let everyPass: Monitor;
  const recipient = Keypair.generate().publicKey;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-bypass-'));
    writeFileSync(join(dataDir, 'config.toml'), config);
    daemon = await startTestDaemon({ dataDir });
    receiver = await startReceiver();
    receiver.secret = WEBHOOK_SECRET;
    everyPass = createMonitor({
      store: daemon.runtime.store,
      logger: daemon.runtime.logger,
      config: { ...daemon.runtime.config.monitor, chainCheckMs: 1 },
      connection: daemon.runtime.chain.connection,
    });
  });
  afterAll(async () => {
    await daemon.runtime.services.monitor.stop();
    await receiver?.close();
    await daemon?.close();
  });

  const setUp = async (): Promise<Setup> => {
    const setup = await createOwnerWalletSession(daemon.app, daemon.runtime.store, starterPolicy());
    const webhook = await daemon.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: bearer(setup.owner.token),
      payload: { url: receiver.url, secret: WEBHOOK_SECRET },
    });
    expect(webhook.statusCode).toBe(201);
    await fundVault(daemon, setup.wallet.vault, 3n * SOL);
    await waitFor(
      async () =>
        (await daemon.runtime.chain.connection.getBalance(new PublicKey(setup.wallet.vault))) > 0 ||
        undefined,
    );
    return setup;
  };
  const transfer = (setup: Setup, amount: bigint) =>
    daemon.app.inject({
      method: 'POST',
      url: `/v1/wallets/${setup.wallet.id}/transfers`,
      headers: bearer(setup.session.token),
      payload: { to: recipient.toBase58(), amount: amount.toString() },
    });
  const statusOf = async (setup: Setup) =>
    (await findWallet(daemon.runtime.store.db, setup.wallet.id))?.status;
  /** A transfer signed with the agent key outside the daemon's pipeline, landed on chain. */
  const leakedSpend = async (setup: Setup, agent: string, amount: bigint) => {
    const signed = await enclaveSignedTransfer(daemon, setup.wallet, agent, amount, recipient);
    expect(await submit(daemon, signed)).toMatchObject({ ok: true });
  };
  const wallet = (setup: Setup) =>
    call(daemon, {
      method: 'GET',
      url: `/v1/wallets/${setup.wallet.id}`,
      token: setup.owner.token,
      unlock: null,
    });

  it('what the daemon sent, and what owner acts carried, raise nothing', async () => {
    const setup = await setUp();
    const sent = await transfer(setup, 90_000_000n);
    expect([sent.statusCode, sent.json().status]).toEqual([200, 'confirmed']);
    expect(await everyPass.runOnce()).toEqual([]);
    // Freeze and resume re-create the limit carrying the 0.09 SOL spent: still nothing unexplained.
    for (const act of ['freeze', 'resume']) {
      const answer = await call(daemon, {
        url: `/v1/wallets/${setup.wallet.id}/${act}`,
        token: setup.owner.token,
        body: {},
      });
      expect(answer.status).toBe(200);
    }
    const usage = await call(daemon, {
      method: 'GET',
      url: `/v1/wallets/${setup.wallet.id}/usage`,
      token: setup.owner.token,
      unlock: null,
    });
    expect(usage.body.assets[0].chain).toMatchObject({
      spent: '90000000',
      remaining: String(5n * SOL - 90_000_000n),
    });
    expect(await everyPass.runOnce()).toEqual([]);
    expect(await statusOf(setup)).toBe('active');
    expect((await wallet(setup)).body.frozenReason).toBeNull();
  });

  it('a leaked-key spend halts the wallet within one chain check, alerts the owner and says why', async () => {
    const setup = await setUp();
    const bystander = await setUp();
    const monitor = daemon.runtime.services.monitor;
    monitor.start();
    await leakedSpend(setup, setup.wallet.agentPublicKey, 250_000_000n);
    const landedAt = Date.now();

    // Within one chain check and one poll (plus the time a pass takes on a busy machine).
    await waitFor(
      async () => (await statusOf(setup)) === 'frozen' || undefined,
      CHAIN_CHECK_MS + POLL_MS + 5_000,
    );
    expect(Date.now() - landedAt).toBeLessThan(CHAIN_CHECK_MS + POLL_MS + 5_000);
    expect(await statusOf(bystander)).toBe('active');

    const facts = {
      rule: 'spend_bypassed_daemon',
      asset: 'SOL',
      spentOnChain: '250000000',
      carriedByOwnerActs: '0',
      sentByDaemon: '0',
      bypassed: '250000000',
    };
    const shown = await wallet(setup);
    expect(shown.body).toMatchObject({
      status: 'frozen',
      frozenReason: { code: 'SPEND_BYPASSED_DAEMON', detail: facts },
    });
    expect(Date.parse(shown.body.frozenReason.at)).toBeGreaterThan(0);

    const [alert] = await auditPage(daemon.runtime.store.db, {
      walletId: setup.wallet.id,
      kind: 'monitor.alert',
      limit: 5,
    });
    expect(alert?.actor_role).toBe('system');
    expect(JSON.parse(alert!.details)).toMatchObject({
      ...facts,
      action: 'frozen_on_server',
      reason: { code: 'SPEND_BYPASSED_DAEMON' },
    });
    const frozenEvent = await waitFor(() =>
      receiver.processed.find(
        (event) => event.type === 'wallet.frozen' && event.walletId === setup.wallet.id,
      ),
    );
    expect(frozenEvent.data).toMatchObject({
      by: 'monitor',
      rule: 'spend_bypassed_daemon',
      reason: { code: 'SPEND_BYPASSED_DAEMON', detail: facts },
    });
    const alertEvent = await waitFor(() =>
      receiver.processed.find(
        (event) => event.type === 'monitor.alert' && event.walletId === setup.wallet.id,
      ),
    );
    expect(alertEvent.data).toMatchObject(facts);

    // The server refuses the agent from now on.
    const next = await transfer(setup, 1_000n);
    expect([next.statusCode, next.json().code, next.json().layer]).toEqual([403, 'WALLET_FROZEN', 'server']);

    // The owner finishes the freeze on chain: the reason stays the one that froze it.
    const frozen = await call(daemon, {
      url: `/v1/wallets/${setup.wallet.id}/freeze`,
      token: setup.owner.token,
    });
    expect(frozen.status).toBe(200);
    expect((await wallet(setup)).body.frozenReason).toMatchObject({ code: 'SPEND_BYPASSED_DAEMON' });

    // Resumed (the owner rotated nothing: a choice), the bypassed spend was carried: no new alarm.
    const resumed = await call(daemon, {
      url: `/v1/wallets/${setup.wallet.id}/resume`,
      token: setup.owner.token,
      body: {},
    });
    expect(resumed.status).toBe(200);
    expect(await everyPass.runOnce()).toEqual([]);
    expect((await wallet(setup)).body.frozenReason).toBeNull();
    await monitor.stop();
  });

  it('the halt reaches the enclave too: it refuses to sign for the wallet', async () => {
    const setup = await setUp();
    const monitor = daemon.runtime.services.monitor;
    monitor.start();
    try {
      await leakedSpend(setup, setup.wallet.agentPublicKey, 100_000_000n);
      await waitFor(
        async () => (await statusOf(setup)) === 'frozen' || undefined,
        CHAIN_CHECK_MS + POLL_MS + 5_000,
      );
    } finally {
      await monitor.stop();
    }
    const verdict = await enclaveVerdict(
      daemon,
      setup.wallet,
      setup.wallet.agentPublicKey,
      1_000n,
      recipient,
    );
    expect(verdict).toBe('WALLET_FROZEN@enclave');
  });

  describe('frozenReason for the other freezes', () => {
    it('the owner’s freeze', async () => {
      const setup = await setUp();
      expect(
        (await call(daemon, { url: `/v1/wallets/${setup.wallet.id}/freeze`, token: setup.owner.token }))
          .status,
      ).toBe(200);
      expect((await wallet(setup)).body.frozenReason).toMatchObject({ code: 'OWNER_FREEZE', detail: {} });
      const listed = await call(daemon, {
        method: 'GET',
        url: '/v1/wallets',
        token: setup.owner.token,
        unlock: null,
      });
      expect(listed.body.items[0].frozenReason).toMatchObject({ code: 'OWNER_FREEZE' });
    });
  });
});
