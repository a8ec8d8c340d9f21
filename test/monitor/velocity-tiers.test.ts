/**
 * The spending-velocity rule counts what is signed at once (instant, notify), not what waits for the
 * owner (delay, approval): the quickstart's own demo of the tiers under the starter policy, with the
 * monitor's default thresholds, leaves the wallet active; the same amounts moved at once still freeze it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { starterPolicy as quickstartPolicy } from '../../src/cli/quickstart-setup.ts';
import type { Monitor } from '../../src/daemon/monitor/index.ts';
import { findWallet } from '../../src/store/index.ts';
import { bearer, createOwnerWalletSession } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { waitFor } from '../webhooks/receiver.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

describeWithSquads('spending velocity and the tiers', () => {
  let daemon: TestDaemon;
  let monitor: Monitor;
  const recipient = Keypair.generate().publicKey.toBase58();

  beforeAll(async () => {
    // The defaults a user gets: no config.toml, so monitor_velocity_percent 50 over 600 s.
    daemon = await startTestDaemon({ dataDir: mkdtempSync(join(tmpdir(), 'waiaas-velocity-tiers-')) });
    expect(daemon.runtime.config.monitor.velocity).toEqual({ percent: 50, seconds: 600 });
    monitor = daemon.runtime.services.monitor;
    await monitor.runOnce();
  });
  afterAll(async () => {
    await daemon?.close();
  });

  const funded = async (policy: unknown): Promise<Setup> => {
    const setup = await createOwnerWalletSession(daemon.app, daemon.runtime.store, policy);
    const { connection } = daemon.runtime.chain;
    await connection.requestAirdrop(new PublicKey(setup.wallet.vault), 10_000_000_000);
    await waitFor(
      async () => (await connection.getBalance(new PublicKey(setup.wallet.vault))) > 0 || undefined,
    );
    return setup;
  };

  const send = async (setup: Setup, lamports: string) => {
    const response = await daemon.app.inject({
      method: 'POST',
      url: `/v1/wallets/${setup.wallet.id}/transfers`,
      headers: bearer(setup.session.token),
      payload: { to: recipient, amount: lamports },
    });
    return [response.statusCode, response.json().status, response.json().tier];
  };

  const statusOf = async (setup: Setup) =>
    (await findWallet(daemon.runtime.store.db, setup.wallet.id))?.status;

  it("the quickstart's demo (0.05 + 0.05 + 0.3 + 0.8 SOL, then 1.5 for approval) leaves the wallet active", async () => {
    const setup = await funded(quickstartPolicy);
    expect(await send(setup, '50000000')).toEqual([200, 'confirmed', 'instant']);
    expect(await send(setup, '50000000')).toEqual([200, 'confirmed', 'instant']);
    expect(await send(setup, '300000000')).toEqual([200, 'confirmed', 'notify']);
    expect(await send(setup, '800000000')).toEqual([202, 'delayed', 'delay']);
    expect(await send(setup, '1500000000')).toEqual([202, 'pending_approval', 'approval']);
    // 1.2 SOL of its 2 SOL a day reserved, 60%: only the 0.4 SOL signed at once is velocity.
    expect(await monitor.runOnce()).toEqual([]);
    expect(await statusOf(setup)).toBe('active');
  });

  it('the same 1.2 SOL signed at once is more than half the daily budget: frozen', async () => {
    const everythingInstant = {
      ...quickstartPolicy,
      assets: {
        SOL: {
          ...quickstartPolicy.assets.SOL!,
          tiers: {
            instantMax: '1000000000',
            notifyMax: '1000000000',
            delayMax: '1000000000',
            delaySeconds: 900,
          },
        },
      },
    };
    const setup = await funded(everythingInstant);
    for (const lamports of ['50000000', '50000000', '300000000', '800000000']) {
      expect(await send(setup, lamports)).toEqual([200, 'confirmed', 'instant']);
    }
    expect(await monitor.runOnce()).toEqual([
      expect.objectContaining({
        rule: 'spending_velocity',
        walletId: setup.wallet.id,
        details: expect.objectContaining({ spent: '1200000000', daily: '2000000000' }),
      }),
    ]);
    expect(await statusOf(setup)).toBe('frozen');
  });
});
