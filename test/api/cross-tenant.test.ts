/**
 * No cross-tenant hints. Another owner's session, transfer, webhook or wallet answers exactly as one
 * that does not exist: the same status and the same body byte for byte once the id asked for (and
 * the request id) are set aside. The unauthenticated attestation lists no wallet; a wallet's owner or
 * agent may have a statement of that wallet alone, and nobody else may.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer, createOwnerWalletSession } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

describeWithSquads('no cross-tenant hints', () => {
  let daemon: TestDaemon;
  let alice: Setup;
  let bob: Setup;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    daemon = await startTestDaemon();
    const { app, runtime } = daemon;
    [alice, bob] = [
      await createOwnerWalletSession(app, runtime.store),
      await createOwnerWalletSession(app, runtime.store),
    ];
    const post = async (url: string, token: string, payload: Record<string, unknown>) => {
      const response = await app.inject({ method: 'POST', url, headers: bearer(token), payload });
      if (response.statusCode >= 300) throw new Error(`${url}: ${response.body}`);
      return response.json();
    };
    ids.session = (
      await post(`/v1/wallets/${bob.wallet.id}/sessions`, bob.owner.token, { ttlSeconds: 600 })
    ).id;
    ids.webhook = (await post('/v1/webhooks', bob.owner.token, { url: 'http://127.0.0.1:9/hook' })).id;
    // A delay-tier transfer: it waits, so every owner route about transfers has something to refuse.
    ids.transfer = (
      await post(`/v1/wallets/${bob.wallet.id}/transfers`, bob.session.token, {
        to: alice.wallet.vault,
        amount: '600000000',
      })
    ).id;
    ids.wallet = bob.wallet.id;
  });
  afterAll(async () => {
    await daemon?.close();
  });

  /** Status and body with the id asked for and the request id replaced, for a byte-for-byte comparison. */
  const answer = async (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, id: string) => {
    const response = await daemon.app.inject({
      method,
      url: url.replace(':id', id),
      headers: bearer(token, { 'x-owner-unlock': 'not checked before the owner is known' }),
      // Issuing a session has a body schema: sent, so both requests reach the lookup.
      ...(method === 'POST' ? { payload: url.endsWith('/sessions') ? { ttlSeconds: 600 } : {} } : {}),
    });
    const body = JSON.parse(response.body) as Record<string, unknown>;
    delete body.requestId;
    return { status: response.statusCode, body: JSON.stringify(body).replaceAll(id, '<id>') };
  };

  const cases: [string, 'GET' | 'POST' | 'DELETE', string, keyof typeof ids, 'owner' | 'agent'][] = [
    ['revoke a session', 'DELETE', '/v1/sessions/:id', 'session', 'owner'],
    ['read a transfer (owner)', 'GET', '/v1/transfers/:id', 'transfer', 'owner'],
    ['read a transfer (agent)', 'GET', '/v1/transfers/:id', 'transfer', 'agent'],
    ['cancel a transfer', 'POST', '/v1/transfers/:id/cancel', 'transfer', 'owner'],
    ['approve a transfer', 'POST', '/v1/transfers/:id/approve', 'transfer', 'owner'],
    ['reject a transfer', 'POST', '/v1/transfers/:id/reject', 'transfer', 'owner'],
    ['delete a webhook', 'DELETE', '/v1/webhooks/:id', 'webhook', 'owner'],
    ['read deliveries', 'GET', '/v1/webhooks/:id/deliveries', 'webhook', 'owner'],
    ['read a wallet', 'GET', '/v1/wallets/:id', 'wallet', 'owner'],
    ['issue a session', 'POST', '/v1/wallets/:id/sessions', 'wallet', 'owner'],
    ['attest a wallet (owner)', 'GET', '/v1/attestation?walletId=:id', 'wallet', 'owner'],
    ['attest a wallet (agent)', 'GET', '/v1/attestation?walletId=:id', 'wallet', 'agent'],
  ];

  it.each(cases)(
    '%s: another owner’s answers byte for byte as one that does not exist',
    async (_name, method, url, kind, role) => {
      const token = role === 'owner' ? alice.owner.token : alice.session.token;
      const prefix = ids[kind]!.split('_')[0];
      const missing = `${prefix}_${'x'.repeat(ids[kind]!.length - prefix!.length - 1)}`;
      const theirs = await answer(method, url, token, ids[kind]!);
      const nobodys = await answer(method, url, token, missing);
      expect(theirs.status).toBe(404);
      expect(theirs).toEqual(nobodys);
    },
  );

  it("the anonymous attestation lists no wallet; a wallet's owner and agent get that wallet alone", async () => {
    const anonymous = await daemon.app.inject({
      method: 'GET',
      url: `/v1/attestation?nonce=${'ab'.repeat(16)}`,
    });
    expect(anonymous.statusCode).toBe(200);
    const statement = JSON.parse(anonymous.json().statement);
    expect(statement).toEqual({ domain: 'waiaas:attestation:v1', wallets: [] });
    for (const secret of [
      alice.wallet.id,
      bob.wallet.id,
      alice.wallet.agentPublicKey,
      bob.wallet.agentPublicKey,
    ])
      expect(anonymous.body).not.toContain(secret);

    for (const token of [alice.owner.token, alice.session.token]) {
      const own = await daemon.app.inject({
        method: 'GET',
        url: `/v1/attestation?walletId=${alice.wallet.id}`,
        headers: bearer(token),
      });
      expect(own.statusCode).toBe(200);
      const wallets = JSON.parse(own.json().statement).wallets as { walletId: string; agentKeys: string[] }[];
      expect(wallets).toEqual([
        expect.objectContaining({ walletId: alice.wallet.id, agentKeys: [alice.wallet.agentPublicKey] }),
      ]);
      expect(own.body).not.toContain(bob.wallet.id);
    }
    const withoutToken = await daemon.app.inject({
      method: 'GET',
      url: `/v1/attestation?walletId=${alice.wallet.id}`,
    });
    expect([withoutToken.statusCode, withoutToken.json().code]).toEqual([401, 'UNAUTHORIZED']);
  });
});
