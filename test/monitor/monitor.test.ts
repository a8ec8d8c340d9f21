/**
 * Each monitor rule provoked through the HTTP API of a whole daemon (localnet with the real Squads
 * program, the enclave as its own process): the wallet is frozen on the server at once, its owner's
 * webhook receives `monitor.alert` (signature verified by a real receiver), the audit log has the
 * `monitor.alert` entry, and the chain is left to the owner. Thresholds come from the data
 * directory's config.toml, as an operator would set them. The monitor's passes are run by hand
 * (`runOnce`) so each test knows exactly what it has seen.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Monitor } from '../../src/daemon/monitor/index.ts';
import { readWallet } from '../../src/squads/index.ts';
import { auditPage } from '../../src/store/audit.ts';
import { findWallet } from '../../src/store/index.ts';
import { bearer, createOwnerWalletSession, OWNER_PASSPHRASE, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { type Receiver, startReceiver, waitFor } from '../webhooks/receiver.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

const SOL = 1_000_000_000n;
const WEBHOOK_SECRET = 'monitor-test-webhook-secret-0123456789';

const config = `
monitor_refusals = 3
monitor_refusals_seconds = 300
monitor_outside_hours = 2
monitor_outside_hours_seconds = 3600
monitor_velocity_percent = 50
monitor_velocity_seconds = 600
monitor_enclave_restarts = 2
monitor_enclave_restarts_seconds = 600
`;

describeWithSquads('the monitor', () => {
  let daemon: TestDaemon;
  let monitor: Monitor;
  let receiver: Receiver;
  const recipient = Keypair.generate().publicKey.toBase58();

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-monitor-'));
    writeFileSync(join(dataDir, 'config.toml'), config);
    daemon = await startTestDaemon({ dataDir });
    monitor = daemon.runtime.services.monitor;
    receiver = await startReceiver();
    receiver.secret = WEBHOOK_SECRET;
    await monitor.runOnce();
  });
  afterAll(async () => {
    await receiver?.close();
    await daemon?.close();
  });

  /** An owner with a wallet, an agent session and a webhook on the receiver. */
  const setUp = async (policy: unknown = starterPolicy()): Promise<Setup> => {
    const setup = await createOwnerWalletSession(daemon.app, daemon.runtime.store, policy);
    const webhook = await daemon.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: bearer(setup.owner.token),
      payload: { url: receiver.url, secret: WEBHOOK_SECRET },
    });
    expect(webhook.statusCode).toBe(201);
    return setup;
  };

  const transfer = (setup: Setup, amount: bigint) =>
    daemon.app.inject({
      method: 'POST',
      url: `/v1/wallets/${setup.wallet.id}/transfers`,
      headers: bearer(setup.session.token),
      payload: { to: recipient, amount: amount.toString() },
    });

  const statusOf = async (setup: Setup) =>
    (await findWallet(daemon.runtime.store.db, setup.wallet.id))?.status;

  const alertsOf = async (setup: Setup) =>
    (
      await auditPage(daemon.runtime.store.db, {
        walletId: setup.wallet.id,
        kind: 'monitor.alert',
        limit: 10,
      })
    ).map((row) => ({ actor: row.actor_role, details: JSON.parse(row.details) as Record<string, unknown> }));

  const notified = (setup: Setup) =>
    waitFor(() =>
      receiver.processed.find(
        (event) => event.type === 'monitor.alert' && event.walletId === setup.wallet.id,
      ),
    );

  /** Frozen on the server only: the chain still has the agent and its limit, for the owner to decide. */
  const expectFrozenOnServerOnly = async (setup: Setup) => {
    expect(await statusOf(setup)).toBe('frozen');
    const onChain = await readWallet(daemon.runtime.chain.connection, new PublicKey(setup.wallet.multisig));
    expect(onChain.multisig.threshold).toBe(2);
    expect(onChain.spendingLimits).toHaveLength(1);
    const next = await transfer(setup, 1_000n);
    expect([next.statusCode, next.json().code, next.json().layer]).toEqual([403, 'WALLET_FROZEN', 'server']);
  };

  describe('repeated refusals', () => {
    let agent: Setup;
    let bystander: Setup;

    it('below the threshold nothing happens', async () => {
      [agent, bystander] = await Promise.all([setUp(), setUp()]);
      for (let index = 0; index < 2; index++) {
        const refused = await transfer(agent, 3n * SOL);
        expect([refused.statusCode, refused.json().code]).toEqual([403, 'POLICY_PER_TX_LIMIT']);
      }
      expect(await monitor.runOnce()).toEqual([]);
      expect(await statusOf(agent)).toBe('active');
      const refusals = await auditPage(daemon.runtime.store.db, {
        walletId: agent.wallet.id,
        kind: 'transfer.refused',
        limit: 10,
      });
      expect(refusals.map((row) => JSON.parse(row.details))).toEqual([
        {
          code: 'POLICY_PER_TX_LIMIT',
          layer: 'server',
          asset: 'SOL',
          amount: String(3n * SOL),
          to: recipient,
        },
        {
          code: 'POLICY_PER_TX_LIMIT',
          layer: 'server',
          asset: 'SOL',
          amount: String(3n * SOL),
          to: recipient,
        },
      ]);
      expect(refusals[0]).toMatchObject({ actor_role: 'agent', actor_id: agent.session.id });
    });

    it('at the threshold the wallet is frozen on the server, the owner notified, the act audited', async () => {
      expect((await transfer(agent, 3n * SOL)).statusCode).toBe(403);
      const fired = await monitor.runOnce();
      expect(fired).toEqual([
        expect.objectContaining({ rule: 'repeated_refusals', walletId: agent.wallet.id }),
      ]);
      await expectFrozenOnServerOnly(agent);
      expect(await statusOf(bystander)).toBe('active');

      expect(await alertsOf(agent)).toEqual([
        {
          actor: 'system',
          details: expect.objectContaining({
            rule: 'repeated_refusals',
            refusals: 3,
            threshold: 3,
            windowSeconds: 300,
            codes: ['POLICY_PER_TX_LIMIT'],
            action: 'frozen_on_server',
          }),
        },
      ]);
      const event = await notified(agent);
      expect(event.data).toMatchObject({
        rule: 'repeated_refusals',
        refusals: 3,
        action: 'frozen_on_server',
      });
      await waitFor(() =>
        receiver.processed.find((item) => item.type === 'wallet.frozen' && item.walletId === agent.wallet.id),
      );
      expect(receiver.requests.every((request) => request.signatureValid)).toBe(true);

      // A later pass does not alert again about a wallet already frozen.
      expect((await transfer(agent, 3n * SOL)).statusCode).toBe(403);
      expect(await monitor.runOnce()).toEqual([]);
      expect(await alertsOf(agent)).toHaveLength(1);
    });

    it('after the owner resumes, the refusals already seen no longer count', async () => {
      const resumed = await daemon.app.inject({
        method: 'POST',
        url: `/v1/wallets/${agent.wallet.id}/resume`,
        headers: bearer(agent.owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
        payload: {},
      });
      expect(resumed.statusCode).toBe(200);
      expect(await statusOf(agent)).toBe('active');
      expect((await transfer(agent, 3n * SOL)).json().code).toBe('POLICY_PER_TX_LIMIT');
      expect(await monitor.runOnce()).toEqual([]);
      expect(await statusOf(agent)).toBe('active');
    });
  });

  it('requests outside the policy hours: frozen at its own, lower threshold', async () => {
    const today = new Date().getUTCDay();
    const agent = await setUp(starterPolicy({ hours: { utc: [0, 24], days: [(today + 3) % 7] } }));
    const first = await transfer(agent, 1_000_000n);
    expect([first.statusCode, first.json().code]).toEqual([403, 'OUTSIDE_HOURS']);
    expect(await monitor.runOnce()).toEqual([]);
    expect((await transfer(agent, 1_000_000n)).json().code).toBe('OUTSIDE_HOURS');
    const fired = await monitor.runOnce();
    expect(fired).toEqual([expect.objectContaining({ rule: 'outside_hours', walletId: agent.wallet.id })]);
    await expectFrozenOnServerOnly(agent);
    expect((await alertsOf(agent))[0]?.details).toMatchObject({
      rule: 'outside_hours',
      requests: 2,
      threshold: 2,
    });
    expect((await notified(agent)).data).toMatchObject({ rule: 'outside_hours' });
  });

  it('spending velocity: more than half the daily budget within the window freezes the wallet', async () => {
    const agent = await setUp(
      starterPolicy({
        assets: {
          SOL: {
            perTransaction: String(SOL),
            daily: String(SOL),
            tiers: {
              instantMax: String(SOL),
              notifyMax: String(SOL),
              delayMax: String(SOL),
              delaySeconds: 900,
            },
          },
        },
      }),
    );
    await daemon.runtime.chain.connection.requestAirdrop(new PublicKey(agent.wallet.vault), Number(2n * SOL));
    await waitFor(
      async () => (await daemon.runtime.chain.connection.getBalance(new PublicKey(agent.wallet.vault))) > 0,
    );

    const first = await transfer(agent, (SOL * 3n) / 10n);
    expect([first.statusCode, first.json().status]).toEqual([200, 'confirmed']);
    expect(await monitor.runOnce()).toEqual([]);
    const second = await transfer(agent, (SOL * 3n) / 10n);
    expect([second.statusCode, second.json().status]).toEqual([200, 'confirmed']);
    const fired = await monitor.runOnce();
    expect(fired).toEqual([
      expect.objectContaining({ rule: 'spending_velocity', walletId: agent.wallet.id }),
    ]);
    await expectFrozenOnServerOnly(agent);
    expect((await alertsOf(agent))[0]?.details).toMatchObject({
      rule: 'spending_velocity',
      asset: 'SOL',
      spent: String((SOL * 6n) / 10n),
      daily: String(SOL),
      thresholdPercent: 50,
    });
    expect((await notified(agent)).data).toMatchObject({ rule: 'spending_velocity', asset: 'SOL' });
  });

  it('once started it runs by itself every poll interval', async () => {
    const agent = await setUp();
    monitor.start();
    try {
      for (let index = 0; index < 3; index++) expect((await transfer(agent, 3n * SOL)).statusCode).toBe(403);
      await waitFor(async () => (await statusOf(agent)) === 'frozen' || undefined, 5_000);
    } finally {
      await monitor.stop();
    }
    expect((await alertsOf(agent))[0]?.details).toMatchObject({ rule: 'repeated_refusals' });
  });

  it('enclave restarts: each one audited; at the threshold every active wallet it serves is frozen', async () => {
    const agent = await setUp();
    const { enclave } = daemon.runtime;
    const restart = async () => {
      const pid = enclave.status().pid;
      process.kill(pid!, 'SIGKILL');
      await waitFor(
        () => (enclave.status().pid !== pid && enclave.status().state === 'up') || undefined,
        30_000,
      );
      // The entry is appended as the new enclave starts.
      await waitFor(
        async () =>
          (await auditPage(daemon.runtime.store.db, { kind: 'enclave.restarted', limit: 5 })).length >=
            enclave.status().restarts || undefined,
      );
    };
    await restart();
    expect(await monitor.runOnce()).toEqual([]);
    expect(await statusOf(agent)).toBe('active');
    await restart();
    const fired = await monitor.runOnce();
    expect(fired).toContainEqual(
      expect.objectContaining({ rule: 'enclave_restarts', walletId: agent.wallet.id }),
    );
    await expectFrozenOnServerOnly(agent);
    expect((await alertsOf(agent))[0]?.details).toMatchObject({
      rule: 'enclave_restarts',
      restarts: 2,
      threshold: 2,
    });
    expect((await notified(agent)).data).toMatchObject({ rule: 'enclave_restarts' });
    const restarts = await auditPage(daemon.runtime.store.db, { kind: 'enclave.restarted', limit: 5 });
    expect(restarts.map((row) => row.actor_role)).toEqual(['system', 'system']);
    // Every wallet frozen by now: nothing is left active for the next restart to freeze.
    const active = await daemon.runtime.store.db
      .selectFrom('wallets')
      .select('id')
      .where('status', '=', 'active')
      .execute();
    expect(active).toEqual([]);
  });
});
