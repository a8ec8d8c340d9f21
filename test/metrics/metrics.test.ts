/**
 * The counters an operator alerts on move when what they count happens: a confirmed transfer, a
 * refusal at each layer (the server over its cap; the enclave over its own counters, L1 passing; the
 * chain refusing what both layers let through), a freeze by the owner and one by the monitor, and the
 * gauges read at scrape time (approval queue, wallets, enclave, fee payer).
 */
import { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAgentTransfer } from '../../src/squads/index.ts';
import { bearer, OWNER_PASSPHRASE, operatorToken } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  createOwner,
  createWalletSession,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
  type TestOwner,
  type TransferDaemon,
} from '../transfers/harness.ts';

/** `name{labels}` → value, from the Prometheus text format. */
const parse = (text: string): Map<string, number> => {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const split = line.lastIndexOf(' ');
    samples.set(line.slice(0, split), Number(line.slice(split + 1)));
  }
  return samples;
};

describeWithSquads('domain metrics', () => {
  let daemon: TransferDaemon;
  let owner: TestOwner;
  let operator: string;

  beforeAll(async () => {
    daemon = await startTransferDaemon();
    owner = await createOwner(daemon.app, daemon.store);
    operator = await operatorToken(daemon.store);
  });
  afterAll(async () => {
    await daemon?.close();
  });

  const scrape = async () => {
    const response = await daemon.app.inject({ method: 'GET', url: '/metrics', headers: bearer(operator) });
    expect(response.statusCode).toBe(200);
    return parse(response.body);
  };
  /** How much each sample moved while `act` ran. */
  const moved = async (act: () => Promise<void>) => {
    const before = await scrape();
    await act();
    const after = await scrape();
    return (sample: string) => (after.get(sample) ?? 0) - (before.get(sample) ?? 0);
  };

  it('a confirmed transfer counts by tier and outcome, with its latency, its signature and its confirmation', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const delta = await moved(async () => {
      const response = await postTransfer(daemon.app, session.token, wallet.id, {
        to: newRecipient(),
        amount: String(SOL / 100n),
      });
      expect(response.json()).toMatchObject({ status: 'confirmed', tier: 'instant' });
    });
    expect(delta('waiaas_transfers_total{tier="instant",outcome="confirmed"}')).toBe(1);
    expect(delta('waiaas_transfer_confirm_seconds_count{tier="instant"}')).toBe(1);
    expect(delta('waiaas_enclave_sign_seconds_count{outcome="signed"}')).toBe(1);
    expect(delta('waiaas_chain_confirm_seconds_count{outcome="confirmed"}')).toBe(1);
    expect(delta('waiaas_refusals_total{layer="server",code="POLICY_PER_TX_LIMIT"}')).toBe(0);
  });

  it('a refusal by the server counts under layer server and its code', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy({ perTransaction: SOL }), 0n);
    const delta = await moved(async () => {
      const response = await postTransfer(daemon.app, session.token, wallet.id, {
        to: newRecipient(),
        amount: String(SOL + 1n),
      });
      expect(response.json()).toMatchObject({ code: 'POLICY_PER_TX_LIMIT', layer: 'server' });
    });
    expect(delta('waiaas_refusals_total{layer="server",code="POLICY_PER_TX_LIMIT"}')).toBe(1);
    expect(delta('waiaas_transfers_total{tier="instant",outcome="confirmed"}')).toBe(0);
  });

  it('a refusal by the enclave alone counts under layer enclave, once, and the transfer as rejected', async () => {
    const { wallet, session } = await createWalletSession(
      daemon,
      owner,
      policy({ daily: SOL, perTransaction: SOL, instantMax: SOL, notifyMax: SOL, delayMax: SOL }),
    );
    const to = newRecipient();
    // Signatures the daemon never recorded (as by a compromised host) count in the enclave only.
    const outside = buildAgentTransfer({
      multisig: new PublicKey(wallet.multisig),
      agent: new PublicKey(wallet.agentPublicKey),
      asset: 'SOL',
      amount: (SOL * 9n) / 10n,
      destination: new PublicKey(to),
      feePayer: daemon.runtime.feePayer.publicKey,
      recentBlockhash: (await daemon.runtime.chain.recentBlockhash()).blockhash,
    });
    await daemon.runtime.enclave.use((client) =>
      client.sign(wallet.id, outside.message.serialize(), { requestId: 'outside' }),
    );
    const body = { to, amount: String(SOL / 5n), idempotencyKey: 'enclave-refusal' };
    const delta = await moved(async () => {
      const refused = await postTransfer(daemon.app, session.token, wallet.id, body);
      expect(refused.json()).toMatchObject({ code: 'POLICY_DAILY_LIMIT', layer: 'enclave' });
      // The same answer again under the same key is not a second refusal.
      await postTransfer(daemon.app, session.token, wallet.id, body);
    });
    expect(delta('waiaas_refusals_total{layer="enclave",code="POLICY_DAILY_LIMIT"}')).toBe(1);
    expect(delta('waiaas_transfers_total{tier="instant",outcome="rejected"}')).toBe(1);
    expect(delta('waiaas_enclave_sign_seconds_count{outcome="refused"}')).toBe(1);
    expect(delta('waiaas_refusals_total{layer="server",code="POLICY_DAILY_LIMIT"}')).toBe(0);
  });

  it('a refusal by the chain of what both layers let through counts under layer chain', async () => {
    // The vault holds less than the transfer: the policy allows it, the chain cannot.
    const { wallet, session } = await createWalletSession(daemon, owner, policy(), SOL / 100n);
    const delta = await moved(async () => {
      const response = await postTransfer(daemon.app, session.token, wallet.id, {
        to: newRecipient(),
        amount: String(SOL / 20n),
      });
      expect(response.json()).toMatchObject({ layer: 'chain' });
    });
    const chainRefusals = [...(await scrape()).keys()].filter((sample) =>
      sample.startsWith('waiaas_refusals_total{layer="chain"'),
    );
    expect(chainRefusals.map(delta).reduce((sum, value) => sum + value, 0)).toBe(1);
    expect(delta('waiaas_transfers_total{tier="instant",outcome="failed"}')).toBe(1);
    expect(delta('waiaas_refusals_total{layer="enclave",code="POLICY_DAILY_LIMIT"}')).toBe(0);
  });

  it('freezes count by reason: the owner, and the monitor rule that fired (with its alert)', async () => {
    const { wallet } = await createWalletSession(daemon, owner, policy(), 0n);
    const byOwner = await moved(async () => {
      const response = await daemon.app.inject({
        method: 'POST',
        url: `/v1/wallets/${wallet.id}/freeze`,
        headers: bearer(owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
      });
      expect(response.json()).toMatchObject({ status: 'frozen', server: { changed: true } });
    });
    expect(byOwner('waiaas_wallet_freezes_total{reason="owner"}')).toBe(1);
    expect(byOwner('waiaas_wallets{status="frozen"}')).toBe(1);

    // Repeated refusals (the monitor's default: 10 in 5 minutes) freeze the wallet on the server.
    const { wallet: other, session } = await createWalletSession(
      daemon,
      owner,
      policy({ perTransaction: SOL }),
      0n,
    );
    // The monitor's first pass only reads what happened before it; the refusals come after.
    await daemon.runtime.services.monitor.runOnce();
    const byMonitor = await moved(async () => {
      for (let index = 0; index < 10; index++) {
        await postTransfer(daemon.app, session.token, other.id, {
          to: newRecipient(),
          amount: String(2n * SOL),
        });
      }
      const alerts = await daemon.runtime.services.monitor.runOnce();
      expect(alerts.map((alert) => alert.walletId)).toEqual([other.id]);
    });
    const rules = [...(await scrape()).keys()].filter((sample) =>
      sample.startsWith('waiaas_monitor_alerts_total{'),
    );
    expect(rules.map(byMonitor).reduce((sum, value) => sum + value, 0)).toBe(1);
    const rule = rules.find((sample) => byMonitor(sample) === 1)!.match(/rule="([^"]+)"/)![1];
    expect(byMonitor(`waiaas_wallet_freezes_total{reason="${rule}"}`)).toBe(1);
    expect(byMonitor('waiaas_refusals_total{layer="server",code="POLICY_PER_TX_LIMIT"}')).toBe(10);
  });

  it('reads the approval queue, the enclave and the fee payer at scrape time', async () => {
    const { wallet, session } = await createWalletSession(
      daemon,
      owner,
      policy({ perTransaction: 2n * SOL, delayMax: SOL / 2n }),
    );
    const delta = await moved(async () => {
      const response = await postTransfer(daemon.app, session.token, wallet.id, {
        to: newRecipient(),
        amount: String(SOL),
      });
      expect(response.statusCode).toBe(202);
      await expect
        .poll(async () => (await scrape()).get('waiaas_approval_queue_depth'), { timeout: 20_000 })
        .toBeGreaterThanOrEqual(1);
    });
    expect(delta('waiaas_approval_queue_depth')).toBe(1);
    const samples = await scrape();
    expect(samples.get('waiaas_approval_queue_oldest_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(samples.get('waiaas_enclave_up')).toBe(1);
    expect(samples.get('waiaas_enclave_restarts_total')).toBe(0);
    await expect
      .poll(async () => (await scrape()).get('waiaas_fee_payer_balance_lamports') ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(samples.has('waiaas_outbox_events{status="pending"}')).toBe(true);
  });
});
