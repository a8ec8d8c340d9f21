/**
 * The SDK against a whole running daemon (localnet with the real Squads program, the enclave as its
 * own process), over real HTTP, resource by resource, including the typed errors an agent or owner
 * meets. A resource whose route the daemon does not serve yet is skipped with its route named.
 */
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it, type TestContext } from 'vitest';
import {
  AuthError,
  createClient,
  IdempotencyConflictError,
  NotFoundError,
  PolicyRefusedError,
  sol,
  ValidationError,
} from '../../src/sdk/index.ts';
import { starterPolicy } from '../support/api.ts';
import {
  createOwnerWalletAgent,
  fundVault,
  type ListeningDaemon,
  lamportsOf,
  type OwnerWalletAgent,
  startListeningDaemon,
} from '../support/sdk-daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

const caught = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => new Error('expected the call to fail'),
    (error: unknown) => error,
  );

describeWithSquads('the SDK against a running daemon', () => {
  let listening: ListeningDaemon;
  let main: OwnerWalletAgent;
  let acts: OwnerWalletAgent;
  const recipient = Keypair.generate().publicKey.toBase58();

  beforeAll(async () => {
    listening = await startListeningDaemon();
    [main, acts] = await Promise.all([createOwnerWalletAgent(listening), createOwnerWalletAgent(listening)]);
    await Promise.all([
      fundVault(listening, main.vault, sol('4')),
      fundVault(listening, acts.vault, sol('2')),
    ]);
  });
  afterAll(async () => {
    await listening?.close();
  });

  /** Skips the test, naming the routes, when the daemon does not serve one of them yet. */
  const needs = (context: TestContext, ...routes: string[]) => {
    const missing = routes.filter((route) => !listening.served.has(route));
    if (missing.length > 0) context.skip(`route not served yet: ${missing.join(', ')}`);
  };

  it('health and attestation need no token; the OpenAPI document lists the API', async () => {
    const anonymous = createClient({ url: listening.url });
    const health = await anonymous.health();
    expect(health.db).toMatchObject({ ok: true, engine: 'sqlite' });
    expect(health.chain.ok).toBe(true);
    expect(health.squads.status).toBe('loaded');
    const attestation = await anonymous.attestation({ nonce: 'c0ffee' });
    expect(Buffer.from(attestation.document, 'base64').length).toBeGreaterThan(100);
    expect(listening.served.has('POST /v1/wallets')).toBe(true);
  });

  it('creates owners, wallets and sessions, with policy amounts as bigint', async (context) => {
    needs(context, 'POST /v1/owners', 'POST /v1/wallets', 'GET /v1/wallets', 'GET /v1/wallets/{id}');
    const wallet = await main.owner.wallets.get(main.walletId);
    expect(wallet).toMatchObject({ id: main.walletId, status: 'active', vault: main.vault });
    expect(wallet.policy.assets.SOL).toEqual({
      perTransaction: sol('2'),
      daily: sol('5'),
      tiers: { instantMax: sol('0.1'), notifyMax: sol('0.5'), delayMax: sol('1'), delaySeconds: 900 },
    });
    const listed = await main.owner.wallets.list().toArray();
    expect(listed.map((item) => item.id)).toEqual([main.walletId]);
    expect(await main.agent.depositAddress(main.walletId)).toBe(main.vault);
    expect(await main.owner.depositAddress(main.walletId)).toBe(main.vault);
  });

  it('answers auth failures, unknown ids and bad input with typed errors that say what to do', async () => {
    const created = await listening.operator.owners.create({
      name: 'Second owner',
      signer: { kind: 'local', passphrase: 'second owner passphrase' },
    });
    const bare = createClient({ url: listening.url, token: created.token });

    const noFactor = await caught(bare.wallets.create({ name: 'W', policy: starterPolicy() as never }));
    expect(noFactor).toBeInstanceOf(AuthError);
    expect(noFactor).toMatchObject({ code: 'OWNER_UNLOCK_REQUIRED', status: 401 });
    expect((noFactor as AuthError).action).toMatch(/X-Owner-Unlock/);

    const wrongFactor = await caught(
      bare.wallets.create(
        { name: 'W', policy: starterPolicy() as never },
        { ownerUnlock: 'not the passphrase' },
      ),
    );
    expect(wrongFactor).toBeInstanceOf(AuthError);

    const invalid = await caught(
      bare.wallets.create(
        { name: 'W', policy: { ...(starterPolicy() as object), version: 0 } as never },
        { ownerUnlock: 'second owner passphrase' },
      ),
    );
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, retryable: false });

    // Another owner's wallet is not found rather than forbidden: its existence is not confirmed.
    const foreign = await caught(bare.wallets.get(main.walletId));
    expect(foreign).toBeInstanceOf(NotFoundError);
    expect((foreign as NotFoundError).requestId).toBeTruthy();

    const agentListing = await caught(main.agent.wallets.list().toArray());
    expect(agentListing).toBeInstanceOf(AuthError);
    expect(agentListing).toMatchObject({ code: 'FORBIDDEN' });

    const forged = createClient({ url: listening.url, token: 'waiaas_ses_forged' });
    expect(await caught(forged.depositAddress(main.walletId))).toMatchObject({
      name: 'AuthError',
      code: 'UNAUTHORIZED',
    });
  });

  it('reads the policy (agent) and puts a new one in force (owner-key act)', async (context) => {
    needs(context, 'GET /v1/wallets/{id}/policy', 'PUT /v1/wallets/{id}/policy');
    const before = await acts.agent.policy.get(acts.walletId);
    expect(before).toMatchObject({
      walletId: acts.walletId,
      version: 1,
      ownerPublicKey: acts.ownerPublicKey,
    });
    expect(before.policy.assets.SOL?.daily).toBe(sol('5'));

    const next = { ...before.policy, version: 2 };
    next.assets = { SOL: { ...before.policy.assets.SOL!, daily: sol('4') } };
    const changed = await acts.owner.policy.set(acts.walletId, next);
    expect(changed).toMatchObject({ walletId: acts.walletId, policyVersion: 2, pending: false });
    expect(changed.chain.status).toBe('done');
    expect((await acts.agent.policy.get(acts.walletId)).policy.assets.SOL?.daily).toBe(sol('4'));

    const stale = await caught(
      acts.owner.policy.set(acts.walletId, { ...next, version: 2, rate: { maxPerHour: 5 } }),
    );
    expect(stale).toMatchObject({ code: 'POLICY_VERSION_NOT_NEWER' });
  });

  it('reads balances and usage per layer as bigint', async (context) => {
    needs(context, 'GET /v1/wallets/{id}/balance', 'GET /v1/wallets/{id}/usage');
    const balance = await main.agent.balance(main.walletId);
    expect(balance).toMatchObject({ walletId: main.walletId, vault: main.vault, tokens: [] });
    expect(balance.sol).toBe(await lamportsOf(listening, main.vault));
    expect(balance.sol).toBeGreaterThanOrEqual(sol('4'));

    const usage = await main.agent.usage(main.walletId);
    const solUsage = usage.assets.find((asset) => asset.asset === 'SOL');
    expect(solUsage?.daily).toBe(sol('5'));
    expect(typeof solUsage?.server.spent).toBe('bigint');
    expect(solUsage?.chain?.amount).toBe(sol('5'));
  });

  it('sends an instant transfer that confirms on chain, then finds it by id and in the history', async (context) => {
    needs(
      context,
      'POST /v1/wallets/{id}/transfers',
      'GET /v1/transfers/{id}',
      'GET /v1/wallets/{id}/transfers',
    );
    const spentBefore = (await main.agent.usage(main.walletId)).assets[0]?.server.spent ?? 0n;
    const sent = await main.agent.transfers.send(main.walletId, { to: recipient, amount: sol('0.05') });
    expect(sent).toMatchObject({ status: 'confirmed', tier: 'instant', amount: sol('0.05'), to: recipient });
    expect(sent.signature).toBeTruthy();
    expect(await lamportsOf(listening, recipient)).toBe(sol('0.05'));

    const fetched = await main.agent.transfers.get(sent.id);
    expect(fetched).toMatchObject({ id: sent.id, status: 'confirmed', amount: sol('0.05'), asset: 'SOL' });
    const history = [];
    for await (const transfer of main.agent.transfers.list(main.walletId, { limit: 1 }))
      history.push(transfer.id);
    expect(history).toContain(sent.id);
    const spentAfter = (await main.agent.usage(main.walletId)).assets[0]?.server.spent ?? 0n;
    expect(spentAfter - spentBefore).toBe(sol('0.05'));
  });

  it('a policy refusal is a PolicyRefusedError with layer "server", its code and what to do', async (context) => {
    needs(context, 'POST /v1/wallets/{id}/transfers');
    const refused = await caught(
      main.agent.transfers.send(main.walletId, { to: recipient, amount: sol('3') }),
    );
    expect(refused).toBeInstanceOf(PolicyRefusedError);
    expect(refused).toMatchObject({
      layer: 'server',
      code: 'POLICY_PER_TX_LIMIT',
      status: 403,
      retryable: false,
      action: 'Send a smaller amount.',
    });
  });

  it('the same idempotency key answers with the same transfer; with another body, IdempotencyConflictError', async (context) => {
    needs(context, 'POST /v1/wallets/{id}/transfers');
    const idempotencyKey = `order-${Date.now()}`;
    const before = await lamportsOf(listening, recipient);
    const first = await main.agent.transfers.send(main.walletId, {
      to: recipient,
      amount: sol('0.01'),
      idempotencyKey,
    });
    const again = await main.agent.transfers.send(main.walletId, {
      to: recipient,
      amount: sol('0.01'),
      idempotencyKey,
    });
    expect(again.id).toBe(first.id);
    expect((await lamportsOf(listening, recipient)) - before).toBe(sol('0.01'));
    const conflict = await caught(
      main.agent.transfers.send(main.walletId, { to: recipient, amount: sol('0.02'), idempotencyKey }),
    );
    expect(conflict).toBeInstanceOf(IdempotencyConflictError);
  });

  it('approval tier: waits in the owner’s inbox; approve executes it, reject ends another', async (context) => {
    needs(context, 'GET /v1/approvals', 'POST /v1/transfers/{id}/approve', 'POST /v1/transfers/{id}/reject');
    const waiting = await main.agent.transfers.send(main.walletId, { to: recipient, amount: sol('1.5') });
    expect(waiting).toMatchObject({ status: 'pending_approval', tier: 'approval' });
    expect(waiting.expiresAt).toBeTruthy();
    const inbox = await main.owner.approvals.list().toArray();
    expect(inbox.map((transfer) => transfer.id)).toContain(waiting.id);

    const before = await lamportsOf(listening, recipient);
    const approved = await main.owner.approvals.approve(waiting.id);
    expect(['confirmed', 'submitted', 'signing']).toContain(approved.status);
    await expect.poll(() => lamportsOf(listening, recipient), { timeout: 20_000 }).toBe(before + sol('1.5'));

    const other = await main.agent.transfers.send(main.walletId, { to: recipient, amount: sol('1.2') });
    const rejected = await main.owner.approvals.reject(other.id);
    expect(rejected).toMatchObject({ id: other.id, status: 'rejected' });
    expect((await main.owner.approvals.list().toArray()).map((transfer) => transfer.id)).not.toContain(
      other.id,
    );
  });

  it('delay tier: the owner cancels a delayed transfer before it is due', async (context) => {
    needs(context, 'POST /v1/transfers/{id}/cancel');
    const delayed = await main.agent.transfers.send(main.walletId, { to: recipient, amount: sol('0.7') });
    expect(delayed).toMatchObject({ status: 'delayed', tier: 'delay' });
    expect(delayed.executeAfter).toBeTruthy();
    const cancelled = await main.owner.approvals.cancel(delayed.id);
    expect(cancelled).toMatchObject({ id: delayed.id, status: 'cancelled' });
  });

  it('dry run: the decision at each layer and the budget per tier as bigint, nothing executed', async (context) => {
    needs(context, 'POST /v1/wallets/{id}/transfers/dry-run');
    const before = await lamportsOf(listening, main.vault);
    const allowed = await main.agent.transfers.dryRun(main.walletId, { to: recipient, amount: sol('0.05') });
    expect(allowed).toMatchObject({ allowed: true, tier: 'instant', amount: sol('0.05'), asset: 'SOL' });
    expect(allowed.layers.server).toMatchObject({ checked: true, allowed: true });
    expect(allowed.budget.perTransaction).toBe(sol('2'));
    expect(typeof allowed.budget.remaining.effective).toBe('bigint');
    expect(allowed.budget.tiers.find((range) => range.tier === 'instant')).toMatchObject({
      from: 1n,
      to: sol('0.1'),
      upTo: sol('0.1'),
    });

    const refused = await main.agent.transfers.dryRun(main.walletId, { to: recipient, amount: sol('3') });
    expect(refused).toMatchObject({ allowed: false, code: 'POLICY_PER_TX_LIMIT', layer: 'server' });
    const serverOnly = await main.agent.transfers.dryRun(
      main.walletId,
      { to: recipient, amount: sol('0.05') },
      { layers: ['server'] },
    );
    expect(serverOnly.layers.enclave.checked).toBe(false);
    expect(await lamportsOf(listening, main.vault)).toBe(before);
  });

  it('freeze stops the agent (WALLET_FROZEN), resume restores it; rotation and withdrawal by the owner', async (context) => {
    needs(
      context,
      'POST /v1/wallets/{id}/freeze',
      'POST /v1/wallets/{id}/resume',
      'POST /v1/wallets/{id}/rotate-agent-key',
      'POST /v1/wallets/{id}/withdraw',
      'POST /v1/wallets/{id}/transfers',
    );
    const frozen = await acts.owner.wallets.freeze(acts.walletId);
    expect(frozen).toMatchObject({ status: 'frozen', pending: false });
    const refused = await caught(
      acts.agent.transfers.send(acts.walletId, { to: recipient, amount: sol('0.01') }),
    );
    expect(refused).toBeInstanceOf(PolicyRefusedError);
    expect(refused).toMatchObject({ code: 'WALLET_FROZEN' });

    const resumed = await acts.owner.wallets.resume(acts.walletId);
    expect(resumed).toMatchObject({ status: 'active', agentPublicKey: acts.agentPublicKey });
    const sent = await acts.agent.transfers.send(acts.walletId, { to: recipient, amount: sol('0.01') });
    expect(sent.status).toBe('confirmed');

    const rotated = await acts.owner.wallets.rotateAgentKey(acts.walletId);
    expect(rotated).toMatchObject({
      walletId: acts.walletId,
      vault: acts.vault,
      oldAgentPublicKey: acts.agentPublicKey,
    });
    expect(rotated.agentPublicKey).not.toBe(acts.agentPublicKey);

    const destination = Keypair.generate().publicKey.toBase58();
    const withdrawn = await acts.owner.wallets.withdraw(acts.walletId, {
      to: destination,
      amount: sol('0.5'),
    });
    expect(withdrawn).toMatchObject({ to: destination, asset: 'SOL', amount: sol('0.5'), repeated: false });
    expect(await lamportsOf(listening, destination)).toBe(sol('0.5'));
  });

  it('a revoked session gets AuthError SESSION_REVOKED at once', async (context) => {
    needs(context, 'DELETE /v1/sessions/{id}');
    const session = await main.owner.sessions.create(main.walletId, { ttlSeconds: 600 });
    const agent = createClient({ url: listening.url, token: session.token });
    expect(await agent.depositAddress(main.walletId)).toBe(main.vault);
    await main.owner.sessions.revoke(session.id);
    const revoked = await caught(agent.depositAddress(main.walletId));
    expect(revoked).toBeInstanceOf(AuthError);
    expect(revoked).toMatchObject({
      code: 'SESSION_REVOKED',
      action: 'Ask the owner for a new agent session.',
    });
  });

  it('audit: the owner pages through entries and verifies the chain', async (context) => {
    needs(context, 'GET /v1/audit', 'GET /v1/audit/verify');
    const entries = await main.owner.audit.list({ walletId: main.walletId, limit: 2 }).toArray(5);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((entry) => entry.walletId === main.walletId || entry.ownerId === main.ownerId)).toBe(
      true,
    );
    const verification = await main.owner.audit.verify();
    expect(verification.ok).toBe(true);
  });

  it('webhooks: create (secret shown once), list, delete', async (context) => {
    needs(context, 'POST /v1/webhooks', 'GET /v1/webhooks', 'DELETE /v1/webhooks/{id}');
    const created = await main.owner.webhooks.create({ url: 'http://127.0.0.1:9/hook' });
    expect(created.secret).toBeTruthy();
    const listed = await main.owner.webhooks.list().toArray();
    expect(listed.find((webhook) => webhook.id === created.id)).not.toHaveProperty('secret');
    await main.owner.webhooks.delete(created.id);
    expect((await main.owner.webhooks.list().toArray()).map((webhook) => webhook.id)).not.toContain(
      created.id,
    );
  });
});
