/**
 * Dry runs and exposure through the HTTP API of a whole daemon (localnet with the real Squads program,
 * the enclave as its own process): the decision and each layer's verdict, the budget per tier and
 * window, nothing written; layers that disagree shown apart; the worst-case loss on GET /v1/wallets/:id.
 */
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dryRunResultSchema } from '../../src/daemon/routes/dry-run.ts';
import { enclaveSignedTransfer, submit } from '../owner-acts/helpers.ts';
import { bearer, createOwnerWalletSession, OWNER_PASSPHRASE, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { waitFor } from '../webhooks/receiver.ts';
import { quiescent, stateOf } from './helpers.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

const SOL = 1_000_000_000n;
/**
 * The enclave and chain figures are cached: fresh for a second, then served (up to 5 s old) while a
 * reload runs. A change there shows within a few seconds; `asOf` tells how old a figure is.
 */
const REFRESH_MS = 8_000;
const oneSolPolicy = (overrides: Record<string, unknown> = {}) =>
  starterPolicy({
    assets: {
      SOL: {
        perTransaction: String(SOL),
        daily: String(SOL),
        tiers: { instantMax: String(SOL), notifyMax: String(SOL), delayMax: String(SOL), delaySeconds: 900 },
      },
    },
    ...overrides,
  });

describeWithSquads('dry run and exposure', () => {
  let daemon: TestDaemon;
  let main: Setup;
  let other: Setup;
  const recipient = Keypair.generate().publicKey;

  beforeAll(async () => {
    daemon = await startTestDaemon();
    [main, other] = await Promise.all([
      createOwnerWalletSession(daemon.app, daemon.runtime.store),
      createOwnerWalletSession(daemon.app, daemon.runtime.store, oneSolPolicy()),
    ]);
    await fund(main, 3n * SOL);
    await fund(other, 2n * SOL);
  });
  afterAll(async () => {
    await daemon?.close();
  });

  async function fund(setup: Setup, lamports: bigint) {
    const { connection } = daemon.runtime.chain;
    await connection.requestAirdrop(new PublicKey(setup.wallet.vault), Number(lamports));
    await waitFor(
      async () =>
        BigInt(await connection.getBalance(new PublicKey(setup.wallet.vault))) >= lamports || undefined,
    );
  }

  const dryRun = async (
    setup: Setup,
    amount: bigint,
    options: { token?: string; query?: string; to?: string } = {},
  ) => {
    const response = await daemon.app.inject({
      method: 'POST',
      url: `/v1/wallets/${setup.wallet.id}/transfers/dry-run${options.query ?? ''}`,
      headers: bearer(options.token ?? setup.session.token),
      payload: { to: options.to ?? recipient.toBase58(), amount: amount.toString() },
    });
    // The route skips its response schema at run time; every answer here is held to it.
    if (response.statusCode === 200) dryRunResultSchema.parse(response.json());
    // biome-ignore lint/suspicious/noExplicitAny: assertions read the answer's nested JSON directly.
    return { status: response.statusCode, body: response.json() as Record<string, any> };
  };

  const wallet = async (setup: Setup) => {
    const response = await daemon.app.inject({
      url: `/v1/wallets/${setup.wallet.id}`,
      headers: bearer(setup.owner.token),
    });
    expect(response.statusCode).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: assertions read the answer's nested JSON directly.
    return response.json() as Record<string, any>;
  };

  it('answers the tier each amount would get, every layer agreeing, and the budget per tier — writing nothing', async () => {
    await quiescent(daemon.runtime.store);
    const before = await stateOf(daemon.runtime.store);
    const cases: [bigint, string][] = [
      [50_000_000n, 'instant'],
      [300_000_000n, 'notify'],
      [900_000_000n, 'delay'],
      [1_500_000_000n, 'approval'],
    ];
    for (const [amount, tier] of cases) {
      const { status, body } = await dryRun(main, amount);
      expect([amount, status, body.allowed, body.tier]).toEqual([amount, 200, true, tier]);
      for (const layer of ['server', 'enclave', 'chain'])
        expect([layer, body.layers[layer].checked, body.layers[layer].allowed]).toEqual([layer, true, true]);
    }
    const delayed = await dryRun(main, 900_000_000n);
    expect(delayed.body.delaySeconds).toBe(900);
    expect(delayed.body.layers.enclave.notes.join(' ')).toMatch(/prediction/);

    const { body } = await dryRun(main, 3n * SOL);
    expect(body).toMatchObject({
      allowed: false,
      code: 'POLICY_PER_TX_LIMIT',
      layer: 'server',
      action: 'Send a smaller amount.',
      layers: {
        server: { allowed: false, code: 'POLICY_PER_TX_LIMIT', details: { perTransaction: '2000000000' } },
        enclave: { allowed: false, code: 'POLICY_PER_TX_LIMIT' },
      },
    });
    expect(body.budget).toMatchObject({
      asset: 'SOL',
      perTransaction: '2000000000',
      daily: '5000000000',
      remaining: {
        server: '5000000000',
        enclave: '5000000000',
        chain: '5000000000',
        effective: '5000000000',
      },
      balance: String(3n * SOL),
      tiers: [
        { tier: 'instant', from: '1', to: '100000000', upTo: '100000000' },
        { tier: 'notify', from: '100000001', to: '500000000', upTo: '500000000' },
        { tier: 'delay', from: '500000001', to: '1000000000', upTo: '1000000000' },
        { tier: 'approval', from: '1000000001', to: '2000000000', upTo: '2000000000' },
      ],
      delaySeconds: 900,
      rate: { maxPerHour: 1000, used: 0, remaining: 1000 },
      hours: { allowedNow: true },
    });
    expect(await stateOf(daemon.runtime.store)).toEqual(before);
  });

  it('after a real transfer every layer counts it; the exposure shrinks with the chain’s remaining amount', async () => {
    const exposed = (await wallet(main)).exposure;
    expect(exposed.assets).toEqual([
      {
        asset: 'SOL',
        remaining: '5000000000',
        balance: String(3n * SOL),
        atRisk: String(3n * SOL),
        perDay: '5000000000',
      },
    ]);
    expect(exposed.limits).toEqual([
      expect.objectContaining({
        asset: 'SOL',
        period: 'day',
        amount: '5000000000',
        // The owner too: owner acts use the limit vault-to-vault to carry a day's spending.
        members: expect.arrayContaining([main.wallet.agentPublicKey, main.owner.publicKey]),
        destinations: [],
      }),
    ]);

    const sent = await daemon.app.inject({
      method: 'POST',
      url: `/v1/wallets/${main.wallet.id}/transfers`,
      headers: bearer(main.session.token),
      payload: { to: recipient.toBase58(), amount: String(SOL / 10n) },
    });
    expect(sent.json().status).toBe('confirmed');
    const left = String(5n * SOL - SOL / 10n);
    // The server counts it at once; the enclave's and the chain's cached figures within seconds.
    expect((await dryRun(main, 50_000_000n)).body.budget.remaining.server).toBe(left);
    const { body } = await waitFor(async () => {
      const answer = await dryRun(main, 50_000_000n);
      const { enclave, chain } = answer.body.budget.remaining;
      return enclave === left && chain === left ? answer : undefined;
    }, REFRESH_MS);
    expect(body.budget.remaining).toEqual({ server: left, enclave: left, chain: left, effective: left });
    expect(body.budget.rate.used).toBe(1);
    expect(body.layers.server.basis).toMatchObject({
      spentInWindow: String(SOL / 10n),
      transfersInLastHour: 1,
    });

    const after = (await wallet(main)).exposure;
    expect(after.assets[0]).toMatchObject({ remaining: left, perDay: '5000000000' });
    expect(BigInt(after.assets[0].balance)).toBeLessThan(3n * SOL - SOL / 10n + 1n);
  });

  it('shows layers that disagree apart: spent behind the server’s back, the enclave and the chain refuse', async () => {
    // A compromised host has the enclave sign 0.7 SOL and sends it itself: the server never sees it.
    const signed = await enclaveSignedTransfer(
      daemon,
      other.wallet,
      other.wallet.agentPublicKey,
      (SOL * 7n) / 10n,
      recipient,
    );
    expect(await submit(daemon, signed)).toMatchObject({ ok: true });

    const all = await waitFor(async () => {
      const answer = await dryRun(other, SOL / 2n);
      const { enclave, chain } = answer.body.budget.remaining;
      return enclave !== String(SOL) && chain !== String(SOL) ? answer : undefined;
    }, REFRESH_MS);
    expect(all.body).toMatchObject({
      allowed: false,
      code: 'POLICY_DAILY_LIMIT',
      layer: 'enclave',
      layers: {
        server: { allowed: true, tier: 'instant', basis: { spentInWindow: '0' } },
        enclave: {
          allowed: false,
          code: 'POLICY_DAILY_LIMIT',
          basis: { spentInWindow: String((SOL * 7n) / 10n) },
        },
        chain: {
          allowed: false,
          code: 'POLICY_DAILY_LIMIT',
          details: { remaining: String((SOL * 3n) / 10n), programError: 'SpendingLimitExceeded' },
        },
      },
    });
    expect(all.body.budget.remaining).toEqual({
      server: String(SOL),
      enclave: String((SOL * 3n) / 10n),
      chain: String((SOL * 3n) / 10n),
      effective: String((SOL * 3n) / 10n),
    });
    expect(all.body.budget.tiers[0]).toMatchObject({ tier: 'instant', upTo: String((SOL * 3n) / 10n) });

    const withoutEnclave = await dryRun(other, SOL / 2n, { query: '?layers=server,chain' });
    expect(withoutEnclave.body).toMatchObject({ allowed: false, code: 'POLICY_DAILY_LIMIT', layer: 'chain' });
    expect(withoutEnclave.body.layers.enclave).toEqual({
      checked: false,
      allowed: null,
      notes: ['Not requested (see the layers parameter).'],
    });
    const serverOnly = await dryRun(other, SOL / 2n, { query: '?layers=server' });
    expect(serverOnly.body).toMatchObject({ allowed: true, tier: 'instant' });
    expect(serverOnly.body.budget.remaining.effective).toBe(String(SOL));
  });

  it('refuses at the chain what the vault cannot pay, including leaving it below rent', async () => {
    const poor = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    await fund(poor, SOL);
    const drained = await dryRun(poor, SOL - 1_000n, { query: '?layers=chain' });
    expect(drained.body.layers.chain).toMatchObject({
      allowed: false,
      code: 'INSUFFICIENT_FUNDS',
      details: { balance: String(SOL), rentExemptMinimum: '890880' },
    });
    expect((await dryRun(poor, SOL, { query: '?layers=chain' })).body.layers.chain.allowed).toBe(true);
    // Above delayMax it is an approval-tier vault transaction: no limit used, but the vault still pays.
    const approval = await dryRun(poor, SOL + 1n, { query: '?layers=chain' });
    expect(approval.body.layers.chain).toMatchObject({
      allowed: false,
      code: 'INSUFFICIENT_FUNDS',
      notes: [expect.stringMatching(/owner approves/), 'The vault does not hold the amount.'],
    });
  });

  it('an allowlist is checked by the server and, through the limit’s destinations, by the chain', async () => {
    const allowed = Keypair.generate().publicKey.toBase58();
    const listed = await createOwnerWalletSession(
      daemon.app,
      daemon.runtime.store,
      starterPolicy({ recipients: { mode: 'allowlist', addresses: [allowed] } }),
    );
    await fund(listed, SOL);
    const stranger = await dryRun(listed, 1_000_000n);
    expect(stranger.body).toMatchObject({
      allowed: false,
      code: 'RECIPIENT_NOT_ALLOWED',
      layer: 'server',
      layers: {
        chain: {
          allowed: false,
          code: 'RECIPIENT_NOT_ALLOWED',
          details: { programError: 'InvalidDestination' },
        },
      },
    });
    expect((await dryRun(listed, 1_000_000n, { to: allowed })).body).toMatchObject({
      allowed: true,
      tier: 'instant',
    });
    // With the vault, for owner acts' vault-to-vault carry (neither layer lets the agent send there).
    expect((await wallet(listed)).exposure.limits[0].destinations.sort()).toEqual(
      [allowed, listed.wallet.vault].sort(),
    );
  });

  it('a frozen wallet: refused at the server and the chain, and nothing exposed any more', async () => {
    const frozen = await daemon.app.inject({
      method: 'POST',
      url: `/v1/wallets/${main.wallet.id}/freeze`,
      headers: bearer(main.owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
    });
    expect(frozen.statusCode).toBe(200);
    const { body } = await dryRun(main, 1_000_000n);
    expect(body).toMatchObject({
      allowed: false,
      code: 'WALLET_FROZEN',
      layer: 'server',
      layers: { chain: { allowed: false, code: 'WALLET_FROZEN' } },
    });
    const exposure = (await wallet(main)).exposure;
    expect([exposure.assets, exposure.limits]).toEqual([[], []]);
  });

  it('only the wallet’s agent and owner may ask; others are told nothing', async () => {
    expect((await dryRun(main, 1_000n, { token: other.session.token })).status).toBe(404);
    expect((await dryRun(main, 1_000n, { token: other.owner.token })).status).toBe(404);
    expect((await dryRun(main, 1_000n, { token: main.operator })).status).toBe(403);
    expect((await dryRun(main, 1_000n, { token: 'waiaas_ses_unknown-token-xxxxxxxxxxxx' })).status).toBe(401);
    expect((await dryRun(other, 1_000n, { token: other.owner.token })).status).toBe(200);
    const agentReadsWallet = await daemon.app.inject({
      url: `/v1/wallets/${main.wallet.id}`,
      headers: bearer(main.session.token),
    });
    expect(agentReadsWallet.statusCode).toBe(403);
  });
});
