/**
 * The kill switch and its undoing, through the HTTP API of a whole daemon on the localnet with the
 * real Squads program and the enclave as its own process. After a freeze every agent attempt is tried
 * at each layer on its own and refused; resume restores spending.
 */
import { randomBytes } from 'node:crypto';
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freezeWallet } from '../../src/daemon/owner-acts/freeze.ts';
import type { Runtime } from '../../src/daemon/runtime/runtime.ts';
import { createChainClient } from '../../src/solana/chain-client.ts';
import { readWallet } from '../../src/squads/index.ts';
import { findOwnerById, findWallet } from '../../src/store/index.ts';
import { createOwnerWalletSession, OWNER_PASSPHRASE, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  call,
  enclaveSignedTransfer,
  enclaveVerdict,
  fundVault,
  lamportsOf,
  SOL,
  submit,
} from './helpers.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

describeWithSquads('freeze and resume', () => {
  let daemon: TestDaemon;
  let main: Setup;
  let other: Setup;
  const recipient = Keypair.generate().publicKey;

  beforeAll(async () => {
    daemon = await startTestDaemon();
    [main, other] = await Promise.all([
      createOwnerWalletSession(daemon.app, daemon.runtime.store),
      createOwnerWalletSession(daemon.app, daemon.runtime.store),
    ]);
    await fundVault(daemon, main.wallet.vault, 3n * SOL);
  });
  afterAll(async () => {
    await daemon?.close();
  });

  const chainState = async (setup: Setup) =>
    readWallet(daemon.runtime.chain.connection, new PublicKey(setup.wallet.multisig));
  const walletStatus = async (setup: Setup) =>
    (await findWallet(daemon.runtime.store.db, setup.wallet.id))?.status;

  /** A transfer another replica is submitting right now (claimed for an hour): in flight, not cancellable. */
  const inFlightElsewhere = async (walletId: string) => {
    const id = `tr_${randomBytes(6).toString('hex')}`;
    const now = BigInt(Date.now());
    await daemon.runtime.store.db
      .insertInto('transfers')
      .values({
        id,
        wallet_id: walletId,
        idempotency_key: null,
        request_hash: id,
        asset: 'SOL',
        amount: 10_000_000n,
        destination: recipient.toBase58(),
        memo: null,
        tier: 'instant',
        status: 'submitted',
        counts_daily: 1n,
        counted_at: now,
        execute_after: null,
        expires_at: null,
        agent_public_key: null,
        signature: null,
        signed_transaction: null,
        last_valid_block_height: null,
        transaction_index: null,
        error_code: null,
        error_detail: null,
        claimed_by: 'replica-elsewhere',
        claimed_until: now + 3_600_000n,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  };

  const transfer = (setup: Setup, amount: bigint, key: string) =>
    call(daemon, {
      url: `/v1/wallets/${setup.wallet.id}/transfers`,
      token: setup.session.token,
      body: { to: recipient.toBase58(), amount: amount.toString(), idempotencyKey: key },
    });

  it('refuses every owner act without the second factor, to an agent, and on another owner’s wallet, changing nothing', async () => {
    const acts = [
      { url: 'freeze', body: undefined },
      { url: 'resume', body: {} },
      { url: 'rotate-agent-key', body: undefined },
      { url: 'withdraw', body: { to: recipient.toBase58(), amount: 'all' } },
    ];
    const base = `/v1/wallets/${main.wallet.id}`;
    for (const act of acts) {
      const url = `${base}/${act.url}`;
      const noUnlock = await call(daemon, { url, token: main.owner.token, body: act.body, unlock: null });
      expect([act.url, noUnlock.status, noUnlock.body.code]).toEqual([act.url, 401, 'OWNER_UNLOCK_REQUIRED']);
      const agent = await call(daemon, { url, token: main.session.token, body: act.body });
      expect([act.url, agent.status]).toEqual([act.url, 403]);
      const foreign = await call(daemon, {
        url: `/v1/wallets/${other.wallet.id}/${act.url}`,
        token: main.owner.token,
        body: act.body,
      });
      expect([act.url, foreign.status, foreign.body.code]).toEqual([act.url, 404, 'NOT_FOUND']);
    }
    const policy = await call(daemon, {
      method: 'PUT',
      url: `${base}/policy`,
      token: main.owner.token,
      body: { policy: {} },
      unlock: null,
    });
    expect(policy.status).toBe(400); // bad input is refused before the factor is even asked for
    const unlocked = await call(daemon, {
      method: 'PUT',
      url: `${base}/policy`,
      token: main.owner.token,
      body: { policy: starterPolicy({ version: 2 }) },
      unlock: null,
    });
    expect([unlocked.status, unlocked.body.code]).toEqual([401, 'OWNER_UNLOCK_REQUIRED']);
    const agentPolicy = await call(daemon, {
      method: 'PUT',
      url: `${base}/policy`,
      token: main.session.token,
      body: { policy: starterPolicy({ version: 2 }) },
    });
    expect(agentPolicy.status).toBe(403);
    expect(await walletStatus(main)).toBe('active');
    expect(await walletStatus(other)).toBe('active');
    expect((await chainState(main)).multisig.threshold).toBe(2);
  });

  let preSigned: Awaited<ReturnType<typeof enclaveSignedTransfer>>;

  it('freezes: server first (open transfers cancelled), then the enclave and the chain; every layer refuses the agent', async () => {
    const { wallet, owner, session } = main;
    // Before: the agent spends through the pipeline, and has the enclave sign one more transfer that
    // it holds back for later. A delay-tier and an approval-tier transfer wait; one is in flight.
    const instant = await transfer(main, 50_000_000n, 'before-instant');
    expect([instant.status, instant.body.status]).toEqual([200, 'confirmed']);
    preSigned = await enclaveSignedTransfer(daemon, wallet, wallet.agentPublicKey, 60_000_000n, recipient);
    const delayed = await transfer(main, 600_000_000n, 'before-delay');
    expect([delayed.status, delayed.body.status]).toEqual([202, 'delayed']);
    const approval = await transfer(main, 1_500_000_000n, 'before-approval');
    expect([approval.status, approval.body.status]).toEqual([202, 'pending_approval']);
    const open = [delayed.body.id as string, approval.body.id as string];
    const inFlight = await inFlightElsewhere(wallet.id);

    const frozen = await call(daemon, { url: `/v1/wallets/${wallet.id}/freeze`, token: owner.token });
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({
      walletId: wallet.id,
      status: 'frozen',
      server: { changed: true, inFlightTransfers: [inFlight] },
      enclave: { status: 'done', policyVersion: 2 },
      chain: { status: 'done' },
    });
    expect([...frozen.body.server.cancelledTransfers].sort()).toEqual([...open].sort());
    expect(frozen.body.notes).toEqual([expect.stringContaining('confirm or fail on their own')]);

    // Server: blocked, open transfers cancelled and released from the daily budget, the rest untouched.
    expect(await walletStatus(main)).toBe('frozen');
    const rows = await daemon.runtime.store.db
      .selectFrom('transfers')
      .select(['id', 'status', 'counts_daily'])
      .where('wallet_id', '=', wallet.id)
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of open) expect(byId.get(id)).toMatchObject({ status: 'cancelled', counts_daily: 0n });
    expect(byId.get(inFlight)?.status).toBe('submitted');
    expect(byId.get(instant.body.id)?.status).toBe('confirmed');
    const shownCancelled = await call(daemon, {
      method: 'GET',
      url: `/v1/transfers/${delayed.body.id}`,
      token: session.token,
    });
    expect(shownCancelled.body.status).toBe('cancelled');

    // Chain: the owner alone, threshold 1, no spending limit left.
    const state = await chainState(main);
    expect(state.multisig.threshold).toBe(1);
    expect(state.multisig.members.map((member) => member.key.toBase58())).toEqual([owner.publicKey]);
    expect(state.spendingLimits).toEqual([]);

    // L1: the server refuses the agent.
    const attempt = await transfer(main, 1_000_000n, 'after-freeze');
    expect([attempt.status, attempt.body.code, attempt.body.layer]).toEqual([403, 'WALLET_FROZEN', 'server']);
    // L2: asked directly (as a compromised daemon would), the enclave refuses to sign: its policy is now
    // the owner-signed frozen one, with no asset.
    expect(await enclaveVerdict(daemon, wallet, wallet.agentPublicKey, 1_000_000n, recipient)).toMatch(
      /^(ENCLAVE_REFUSED|ASSET_NOT_ALLOWED)@enclave$/,
    );
    // L3: a transfer the enclave signed before the freeze is refused by the chain itself.
    const vaultBefore = await lamportsOf(daemon, wallet.vault);
    const late = await submit(daemon, preSigned);
    // The spending limit account is gone, so the program cannot even load it.
    expect(late).toEqual({ ok: false, code: 'CHAIN_REJECTED', programError: 'AccountNotInitialized' });
    expect(await lamportsOf(daemon, wallet.vault)).toBe(vaultBefore);

    const policy = await call(daemon, {
      method: 'GET',
      url: `/v1/wallets/${wallet.id}/policy`,
      token: session.token,
    });
    expect(policy.body).toMatchObject({ status: 'frozen', version: 2, policy: { version: 2, assets: {} } });

    // Usage while frozen: the server still counts what was spent; no limit is left on chain.
    const usage = await call(daemon, {
      method: 'GET',
      url: `/v1/wallets/${wallet.id}/usage`,
      token: owner.token,
    });
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({ status: 'frozen', policyVersion: 2 });
    const sol = usage.body.assets.find((entry: { asset: string }) => entry.asset === 'SOL');
    // The confirmed and the in-flight transfers still count; the cancelled delayed one was released.
    expect(sol).toMatchObject({ daily: null, server: { spent: '60000000', remaining: null }, chain: null });
  });

  it('a repeated freeze changes nothing', async () => {
    const again = await call(daemon, {
      url: `/v1/wallets/${main.wallet.id}/freeze`,
      token: main.owner.token,
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      server: { changed: false, cancelledTransfers: [] },
      enclave: { status: 'unchanged', policyVersion: 2 },
      chain: { status: 'unchanged' },
    });
  });

  it('refuses to change the policy or rotate the key of a frozen wallet', async () => {
    const base = `/v1/wallets/${main.wallet.id}`;
    const rotate = await call(daemon, { url: `${base}/rotate-agent-key`, token: main.owner.token });
    expect([rotate.status, rotate.body.code]).toEqual([403, 'WALLET_FROZEN']);
    const policy = await call(daemon, {
      method: 'PUT',
      url: `${base}/policy`,
      token: main.owner.token,
      body: { policy: { ...(await currentPolicy(main)), version: 10, assets: {} } },
    });
    expect([policy.status, policy.body.code]).toEqual([403, 'WALLET_FROZEN']);
  });

  const currentPolicy = async (setup: Setup) =>
    (
      await call(daemon, {
        method: 'GET',
        url: `/v1/wallets/${setup.wallet.id}/policy`,
        token: setup.owner.token,
      })
    ).body.policy;

  it('resumes: agent member, threshold 2 and its limit back on chain, the policy back in the enclave; the agent spends again', async () => {
    const { wallet, owner } = main;
    const resumed = await call(daemon, {
      url: `/v1/wallets/${wallet.id}/resume`,
      token: owner.token,
      body: {},
    });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({
      status: 'active',
      agentPublicKey: wallet.agentPublicKey,
      policyVersion: 3,
      chain: { status: 'done' },
      enclave: { status: 'done' },
    });
    expect(await walletStatus(main)).toBe('active');
    const state = await chainState(main);
    expect(state.multisig.threshold).toBe(2);
    expect(
      Object.fromEntries(state.multisig.members.map((member) => [member.key.toBase58(), member.mask])),
    ).toEqual({ [owner.publicKey]: 7, [wallet.agentPublicKey]: 3 });
    expect(state.spendingLimits).toHaveLength(1);
    expect(state.spendingLimits[0]).toMatchObject({ amount: 5n * SOL });
    expect(state.spendingLimits[0]!.members.map((key) => key.toBase58()).sort()).toEqual(
      [wallet.agentPublicKey, owner.publicKey].sort(),
    );

    const policy = await currentPolicy(main);
    expect(policy).toMatchObject({ version: 3, assets: { SOL: { daily: '5000000000' } } });

    const received = await lamportsOf(daemon, recipient);
    const spent = await transfer(main, 70_000_000n, 'after-resume');
    expect([spent.status, spent.body.status]).toEqual([200, 'confirmed']);
    expect(await lamportsOf(daemon, recipient)).toBe(received + 70_000_000n);

    const again = await call(daemon, {
      url: `/v1/wallets/${wallet.id}/resume`,
      token: owner.token,
      body: {},
    });
    expect(again.body).toMatchObject({
      policyVersion: 3,
      chain: { status: 'unchanged' },
      enclave: { status: 'unchanged' },
    });
  });

  it('stays frozen when the second factor is wrong or the chain is down, and a repeat finishes the job', async () => {
    const { wallet, owner } = other;
    const wrong = await call(daemon, {
      url: `/v1/wallets/${wallet.id}/freeze`,
      token: owner.token,
      unlock: 'not the passphrase',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.details).toMatchObject({ serverBlocked: true });
    expect(await walletStatus(other)).toBe('frozen');
    expect((await chainState(other)).multisig.threshold).toBe(2);

    // The chain unreachable (a real client to a port nobody listens on): enclave done, chain pending.
    const record = await findOwnerById(daemon.runtime.store.db, owner.id);
    const deadChain = createChainClient('http://127.0.0.1:9');
    const offline: Runtime = { ...daemon.runtime, chain: deadChain };
    try {
      const partial = await freezeWallet(offline, {
        owner: record!,
        walletId: wallet.id,
        unlock: OWNER_PASSPHRASE,
      });
      expect(partial).toMatchObject({
        status: 'frozen',
        enclave: { status: 'done' },
        chain: { status: 'pending' },
      });
      expect(partial.chain.error?.code).toBe('CHAIN_UNAVAILABLE');
      expect(partial.notes).toEqual([expect.stringContaining('repeat this call')]);
    } finally {
      deadChain.close();
    }
    expect(await walletStatus(other)).toBe('frozen');
    expect(await enclaveVerdict(daemon, wallet, wallet.agentPublicKey, 1_000_000n, recipient)).toMatch(
      /@enclave$/,
    );

    const retried = await call(daemon, { url: `/v1/wallets/${wallet.id}/freeze`, token: owner.token });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({
      server: { changed: false },
      enclave: { status: 'unchanged' },
      chain: { status: 'done' },
    });
    const state = await chainState(other);
    expect([state.multisig.threshold, state.spendingLimits.length, state.multisig.members.length]).toEqual([
      1, 0, 1,
    ]);
  });

  it('resumes with a new policy sent along, and refuses one that is not newer', async () => {
    const { wallet, owner } = other;
    const stale = await call(daemon, {
      url: `/v1/wallets/${wallet.id}/resume`,
      token: owner.token,
      body: { policy: { ...(await currentPolicy(other)), version: 1 } },
    });
    expect([stale.status, stale.body.code]).toEqual([409, 'POLICY_VERSION_NOT_NEWER']);
    const restore = (await daemon.runtime.store.db
      .selectFrom('owner_acts')
      .select('detail')
      .where('wallet_id', '=', wallet.id)
      .where('kind', '=', 'freeze')
      .executeTakeFirstOrThrow()) as { detail: string };
    const policy = JSON.parse(restore.detail).restorePolicy;
    const next = { ...policy, version: 7, assets: { SOL: { ...policy.assets.SOL, daily: '3000000000' } } };
    const resumed = await call(daemon, {
      url: `/v1/wallets/${wallet.id}/resume`,
      token: owner.token,
      body: { policy: next },
    });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ policyVersion: 7, chain: { status: 'done' } });
    expect((await chainState(other)).spendingLimits.map((limit) => limit.amount)).toEqual([3n * SOL]);
  });
});
