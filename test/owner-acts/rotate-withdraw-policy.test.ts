/**
 * Key rotation, withdrawal, policy change and the status read from the chain, through the HTTP API
 * of a whole daemon on the localnet with the real Squads program and the enclave as its own process.
 */
import {
  createMint,
  getAccount,
  getAssociatedTokenAddressSync,
  getOrCreateAssociatedTokenAccount,
  mintTo,
} from '@solana/spl-token';
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import type { PolicyBundle } from '../../src/core/policy.ts';
import { rotateAgentKey } from '../../src/daemon/owner-acts/rotate-agent-key.ts';
import type { Runtime } from '../../src/daemon/runtime/runtime.ts';
import type { SealedAgentKey } from '../../src/enclave/agent-keys.ts';
import { readSpendingLimits, readWallet, vaultAddress } from '../../src/squads/index.ts';
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

describeWithSquads('rotation, withdrawal, policy and status', () => {
  let daemon: TestDaemon;
  const recipient = Keypair.generate().publicKey;

  beforeAll(async () => {
    daemon = await startTestDaemon();
  });
  afterAll(async () => {
    await daemon?.close();
  });

  const wallet = async (policy: unknown = starterPolicy(), lamports = 3n * SOL) => {
    const setup = await createOwnerWalletSession(daemon.app, daemon.runtime.store, policy);
    await fundVault(daemon, setup.wallet.vault, lamports);
    return setup;
  };
  const chainState = (setup: Setup) =>
    readWallet(daemon.runtime.chain.connection, new PublicKey(setup.wallet.multisig));
  const agentKeyRows = (walletId: string) =>
    daemon.runtime.store.db
      .selectFrom('agent_keys')
      .select(['public_key', 'status', 'sealed'])
      .where('wallet_id', '=', walletId)
      .execute();

  it('documents the owner acts and status routes in the OpenAPI document', async () => {
    const document = (await daemon.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const [path, method] of [
      ['/v1/wallets/{id}/freeze', 'post'],
      ['/v1/wallets/{id}/resume', 'post'],
      ['/v1/wallets/{id}/rotate-agent-key', 'post'],
      ['/v1/wallets/{id}/withdraw', 'post'],
      ['/v1/wallets/{id}/policy', 'put'],
      ['/v1/wallets/{id}/policy', 'get'],
      ['/v1/wallets/{id}/balance', 'get'],
      ['/v1/wallets/{id}/usage', 'get'],
    ] as const) {
      expect(document.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });

  it('rotates the agent key: same address, the new key spends, the old one is refused by the enclave and the chain', async () => {
    const setup = await wallet();
    const { wallet: created, owner } = setup;
    const oldKey = created.agentPublicKey;
    // The pipeline has signed with the old key (and keeps the wallet in its cache) before the rotation.
    const before = await call(daemon, {
      url: `/v1/wallets/${created.id}/transfers`,
      token: setup.session.token,
      body: { to: recipient.toBase58(), amount: '20000000', idempotencyKey: 'before-rotation' },
    });
    expect([before.status, before.body.status]).toEqual([200, 'confirmed']);
    const heldBack = await enclaveSignedTransfer(daemon, created, oldKey, 40_000_000n, recipient);

    const rotated = await call(daemon, {
      url: `/v1/wallets/${created.id}/rotate-agent-key`,
      token: owner.token,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({
      walletId: created.id,
      vault: created.vault,
      oldAgentPublicKey: oldKey,
      chain: { status: 'done' },
      retired: true,
    });
    const newKey = rotated.body.agentPublicKey as string;
    expect(newKey).not.toBe(oldKey);

    const state = await chainState(setup);
    expect(state.vault.toBase58()).toBe(created.vault);
    expect(vaultAddress(new PublicKey(created.multisig)).toBase58()).toBe(created.vault);
    expect(state.multisig.threshold).toBe(2);
    expect(
      Object.fromEntries(state.multisig.members.map((member) => [member.key.toBase58(), member.mask])),
    ).toEqual({ [owner.publicKey]: 7, [newKey]: 3 });
    expect(state.spendingLimits.map((limit) => limit.members.map(String).sort())).toEqual([
      [newKey, owner.publicKey].sort(),
    ]);
    const shown = await call(daemon, { method: 'GET', url: `/v1/wallets/${created.id}`, token: owner.token });
    expect(shown.body).toMatchObject({ vault: created.vault, agentPublicKey: newKey });

    // The new key spends, through the transfer pipeline.
    const sent = await call(daemon, {
      url: `/v1/wallets/${created.id}/transfers`,
      token: setup.session.token,
      body: { to: recipient.toBase58(), amount: '30000000', idempotencyKey: 'after-rotation' },
    });
    expect([sent.status, sent.body.status]).toEqual([200, 'confirmed']);
    const landed = await daemon.runtime.chain.connection.getTransaction(sent.body.signature, {
      commitment: 'confirmed',
      maxSupportedTransactionVersion: 0,
    });
    expect(landed?.transaction.message.staticAccountKeys.map(String)).toContain(newKey);
    // The enclave no longer signs with the old key, and the chain refuses what it signed before.
    expect(await enclaveVerdict(daemon, created, oldKey, 10_000_000n, recipient)).toBe(
      'ENCLAVE_REFUSED@enclave',
    );
    // Not a member of the limit that now stands at the same address (nor of the multisig).
    expect(await submit(daemon, heldBack)).toEqual({
      ok: false,
      code: 'CHAIN_REJECTED',
      programError: 'Unauthorized',
    });

    // The store marks it retired; the enclave refuses it even when the host hands it back.
    const rows = await agentKeyRows(created.id);
    expect(Object.fromEntries(rows.map((row) => [row.public_key, row.status]))).toEqual({
      [oldKey]: 'retired',
      [newKey]: 'active',
    });
    const oldSealed = JSON.parse(rows.find((row) => row.public_key === oldKey)!.sealed) as SealedAgentKey;
    const reloaded = await daemon.runtime.enclave.use((client) => client.loadAgentKeys([oldSealed]));
    expect(reloaded.failed).toEqual([{ walletId: created.id, publicKey: oldKey, code: 'AGENT_KEY_RETIRED' }]);
    const status = await daemon.runtime.enclave.use((client) => client.status());
    expect(status.wallets.find((entry) => entry.walletId === created.id)?.agentKeys).toEqual([newKey]);
  });

  it('a rotation whose transaction the chain refused is finished by the repeated call, with the same new key', async () => {
    const setup = await wallet();
    const { wallet: created, owner } = setup;
    const record = await findOwnerById(daemon.runtime.store.db, owner.id);
    // A fee payer with no lamports: the chain refuses the rotation transaction after the new key exists.
    const broke: Runtime = { ...daemon.runtime, feePayer: Keypair.generate() };
    let failure: unknown;
    try {
      await rotateAgentKey(broke, { owner: record!, walletId: created.id, unlock: OWNER_PASSPHRASE });
    } catch (error) {
      failure = error;
    }
    expect(isWaiaasError(failure, 'CHAIN_REJECTED')).toBe(true);
    expect((await chainState(setup)).multisig.members.map((member) => member.key.toBase58()).sort()).toEqual(
      [owner.publicKey, created.agentPublicKey].sort(),
    );
    // The new key waits with the act; the wallet's active key is still the old one, the chain's member.
    const act = await daemon.runtime.store.db
      .selectFrom('owner_acts')
      .select(['status', 'detail'])
      .where('wallet_id', '=', created.id)
      .where('kind', '=', 'rotate_agent_key')
      .executeTakeFirstOrThrow();
    expect(act.status).toBe('pending');
    const pendingKey = JSON.parse(act.detail).newAgent as string;
    expect((await agentKeyRows(created.id)).map((row) => [row.public_key, row.status])).toEqual([
      [created.agentPublicKey, 'active'],
    ]);

    const rotated = await call(daemon, {
      url: `/v1/wallets/${created.id}/rotate-agent-key`,
      token: owner.token,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.agentPublicKey).toBe(pendingKey);
    expect(
      Object.fromEntries((await agentKeyRows(created.id)).map((row) => [row.public_key, row.status])),
    ).toEqual({
      [created.agentPublicKey]: 'retired',
      [pendingKey]: 'active',
    });
  });

  it('withdraws SOL to an owner address, an amount then all, leaving members, threshold and limits alone', async () => {
    const setup = await wallet();
    const { wallet: created, owner } = setup;
    const destination = Keypair.generate().publicKey;
    const url = `/v1/wallets/${created.id}/withdraw`;
    const before = await chainState(setup);

    const part = await call(daemon, {
      url,
      token: owner.token,
      body: { to: destination.toBase58(), amount: '500000000', idempotencyKey: 'first' },
    });
    expect(part.status).toBe(200);
    expect(part.body).toMatchObject({
      to: destination.toBase58(),
      asset: 'SOL',
      amount: '500000000',
      repeated: false,
    });
    expect(await lamportsOf(daemon, destination)).toBe(500_000_000n);

    // The same call again answers from the first; the same key for another withdrawal is refused.
    const repeat = await call(daemon, {
      url,
      token: owner.token,
      body: { to: destination.toBase58(), amount: '500000000', idempotencyKey: 'first' },
    });
    expect(repeat.body).toMatchObject({ repeated: true, signature: part.body.signature });
    expect(await lamportsOf(daemon, destination)).toBe(500_000_000n);
    const reused = await call(daemon, {
      url,
      token: owner.token,
      body: { to: destination.toBase58(), amount: '1', idempotencyKey: 'first' },
    });
    expect([reused.status, reused.body.code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);

    const vaultLeft = await lamportsOf(daemon, created.vault);
    const all = await call(daemon, {
      url,
      token: owner.token,
      body: { to: destination.toBase58(), amount: 'all' },
    });
    expect(all.status).toBe(200);
    expect(all.body.amount).toBe(vaultLeft.toString());
    expect(await lamportsOf(daemon, created.vault)).toBe(0n);
    expect(await lamportsOf(daemon, destination)).toBe(500_000_000n + vaultLeft);

    const after = await chainState(setup);
    expect(after.multisig.threshold).toBe(before.multisig.threshold);
    expect(after.multisig.members.map((member) => [member.key.toBase58(), member.mask])).toEqual(
      before.multisig.members.map((member) => [member.key.toBase58(), member.mask]),
    );
    expect(after.spendingLimits.map((limit) => [limit.address.toBase58(), limit.amount])).toEqual(
      before.spendingLimits.map((limit) => [limit.address.toBase58(), limit.amount]),
    );

    const empty = await call(daemon, {
      url,
      token: owner.token,
      body: { to: destination.toBase58(), amount: 'all' },
    });
    expect([empty.status, empty.body.code]).toEqual([409, 'INSUFFICIENT_FUNDS']);
    const toVault = await call(daemon, { url, token: owner.token, body: { to: created.vault, amount: '1' } });
    expect([toVault.status, toVault.body.code]).toEqual([400, 'INVALID_ADDRESS']);
  });

  it('shows token balances and withdraws a token to the owner address', async () => {
    const connection = daemon.runtime.chain.connection;
    const authority = Keypair.generate();
    await connection.requestAirdrop(authority.publicKey, Number(2n * SOL));
    const mint = await createMint(connection, authority, authority.publicKey, null, 6);
    const policy = starterPolicy();
    const tokenPolicy = {
      ...policy,
      assets: {
        ...policy.assets,
        [mint.toBase58()]: {
          perTransaction: '50000000',
          daily: '200000000',
          tiers: { instantMax: '10000000', notifyMax: '50000000', delayMax: '50000000', delaySeconds: 600 },
        },
      },
    };
    const setup = await wallet(tokenPolicy);
    const { wallet: created, owner, session } = setup;
    const vaultTokens = await getOrCreateAssociatedTokenAccount(
      connection,
      authority,
      mint,
      new PublicKey(created.vault),
      true,
    );
    await mintTo(connection, authority, mint, vaultTokens.address, authority, 7_000_000n);

    const balance = await call(daemon, {
      method: 'GET',
      url: `/v1/wallets/${created.id}/balance`,
      token: session.token,
    });
    expect(balance.status).toBe(200);
    expect(balance.body).toEqual({
      walletId: created.id,
      vault: created.vault,
      sol: (3n * SOL).toString(),
      tokens: [
        {
          mint: mint.toBase58(),
          account: vaultTokens.address.toBase58(),
          amount: '7000000',
          decimals: 6,
          exists: true,
        },
      ],
    });

    const destination = Keypair.generate().publicKey;
    const withdrawn = await call(daemon, {
      url: `/v1/wallets/${created.id}/withdraw`,
      token: owner.token,
      body: { to: destination.toBase58(), amount: 'all', mint: mint.toBase58() },
    });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ asset: mint.toBase58(), amount: '7000000' });
    const received = await getAccount(connection, getAssociatedTokenAddressSync(mint, destination));
    expect(received.amount).toBe(7_000_000n);
    expect((await getAccount(connection, vaultTokens.address)).amount).toBe(0n);
  });

  it('changes the policy: the on-chain limit replaced, the enclave enforcing the new version, an older one refused', async () => {
    const setup = await wallet();
    const { wallet: created, owner, session } = setup;
    const url = `/v1/wallets/${created.id}/policy`;
    const oldBundle = JSON.parse(
      (await findWallet(daemon.runtime.store.db, created.id))!.policyBundle,
    ) as PolicyBundle;
    const next = starterPolicy({
      version: 2,
      assets: {
        SOL: {
          perTransaction: '200000000',
          daily: '4000000000',
          tiers: {
            instantMax: '100000000',
            notifyMax: '150000000',
            delayMax: '200000000',
            delaySeconds: 900,
          },
        },
      },
    });

    const changed = await call(daemon, { method: 'PUT', url, token: owner.token, body: { policy: next } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      policyVersion: 2,
      enclave: { status: 'done' },
      chain: { status: 'done' },
    });
    const limits = await readSpendingLimits(daemon.runtime.chain.connection, new PublicKey(created.multisig));
    expect(limits.map((limit) => [limit.amount, limit.members.map(String).sort()])).toEqual([
      [4n * SOL, [created.agentPublicKey, owner.publicKey].sort()],
    ]);
    const shown = await call(daemon, { method: 'GET', url, token: session.token });
    expect(shown.body).toMatchObject({ version: 2, policy: next, ownerPublicKey: owner.publicKey });

    // L2 enforces the new version: 0.3 SOL was a notify-tier transfer under version 1, above perTransaction now.
    expect(await enclaveVerdict(daemon, created, created.agentPublicKey, 300_000_000n, recipient)).toBe(
      'POLICY_PER_TX_LIMIT@enclave',
    );
    expect(
      (
        await submit(
          daemon,
          await enclaveSignedTransfer(daemon, created, created.agentPublicKey, 50_000_000n, recipient),
        )
      ).ok,
    ).toBe(true);

    // An older policy is refused by the server, and by the enclave when replayed to it directly.
    const older = await call(daemon, {
      method: 'PUT',
      url,
      token: owner.token,
      body: { policy: starterPolicy() },
    });
    expect([older.status, older.body.code]).toEqual([409, 'POLICY_VERSION_NOT_NEWER']);
    const replayed = await daemon.runtime.enclave
      .use((client) => client.setPolicy(oldBundle))
      .then(
        () => 'accepted',
        (error) => (error as { code: string }).code,
      );
    expect(replayed).toBe('POLICY_VERSION_NOT_NEWER');
    const sameVersionOtherContent = await call(daemon, {
      method: 'PUT',
      url,
      token: owner.token,
      body: { policy: { ...next, rate: { maxPerHour: 5 } } },
    });
    expect([sameVersionOtherContent.status, sameVersionOtherContent.body.code]).toEqual([
      409,
      'POLICY_VERSION_NOT_NEWER',
    ]);

    // The same change again is a no-op at every layer.
    const again = await call(daemon, { method: 'PUT', url, token: owner.token, body: { policy: next } });
    expect(again.body).toMatchObject({ enclave: { status: 'unchanged' }, chain: { status: 'unchanged' } });
  });

  it('shows balance and usage consistently at the three layers after a transfer', async () => {
    const setup = await wallet(starterPolicy(), 2n * SOL);
    const { wallet: created, session } = setup;
    const amount = 100_000_000n;
    if (daemon.app.hasRoute({ method: 'POST', url: '/v1/wallets/:id/transfers' })) {
      const sent = await call(daemon, {
        url: `/v1/wallets/${created.id}/transfers`,
        token: session.token,
        body: { to: recipient.toBase58(), amount: amount.toString(), idempotencyKey: 'usage-1' },
      });
      expect(sent.body.status).toBe('confirmed');
    } else {
      // Without the pipeline: the enclave signs and the chain confirms, and the server's record of the
      // transfer is written as the pipeline would write it.
      const signed = await enclaveSignedTransfer(daemon, created, created.agentPublicKey, amount, recipient);
      const landed = await submit(daemon, signed);
      expect(landed.ok).toBe(true);
      const now = BigInt(Date.now());
      await daemon.runtime.store.db
        .insertInto('transfers')
        .values({
          id: 'tr_usage',
          wallet_id: created.id,
          idempotency_key: null,
          request_hash: 'usage',
          asset: 'SOL',
          amount,
          destination: recipient.toBase58(),
          memo: null,
          tier: 'instant',
          status: 'confirmed',
          counts_daily: 1n,
          counted_at: now,
          execute_after: null,
          expires_at: null,
          agent_public_key: created.agentPublicKey,
          signature: landed.ok ? landed.signature : null,
          signed_transaction: null,
          last_valid_block_height: null,
          transaction_index: null,
          error_code: null,
          error_detail: null,
          claimed_by: null,
          claimed_until: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    }

    const usage = await call(daemon, {
      method: 'GET',
      url: `/v1/wallets/${created.id}/usage`,
      token: session.token,
    });
    expect(usage.status).toBe(200);
    const left = (5n * SOL - amount).toString();
    expect(usage.body).toMatchObject({
      walletId: created.id,
      status: 'active',
      windowSeconds: 87_000,
      enclave: { available: true },
      rate: { enclaveTransfers: 1 },
    });
    expect(usage.body.assets).toHaveLength(1);
    const sol = usage.body.assets[0];
    expect(sol).toMatchObject({
      asset: 'SOL',
      daily: '5000000000',
      server: { spent: amount.toString(), remaining: left },
      enclave: { spent: amount.toString(), remaining: left },
      chain: { amount: '5000000000', spent: amount.toString(), remaining: left },
    });
    expect(typeof sol.chain.lastReset).toBe('number');
    expect(sol.chain.periodStart).toBe(sol.chain.lastReset);
    expect(typeof usage.body.chainTime).toBe('number');

    const balance = await call(daemon, {
      method: 'GET',
      url: `/v1/wallets/${created.id}/balance`,
      token: setup.owner.token,
    });
    expect(balance.body).toEqual({
      walletId: created.id,
      vault: created.vault,
      sol: (2n * SOL - amount).toString(),
      tokens: [],
    });
    const foreign = await call(daemon, {
      method: 'GET',
      url: `/v1/wallets/${created.id}/usage`,
      token: (await createOwnerWalletSession(daemon.app, daemon.runtime.store)).session.token,
    });
    expect(foreign.status).toBe(404);
  });
});
