/**
 * The role matrix: every operation of the daemon's own /openapi.json (plus the hidden /metrics) tried
 * with every kind of caller, against a whole daemon (localnet with the real Squads program, the
 * enclave as its own process). The expected answer of each (operation, caller) is written out in the
 * table below; an operation the document has and the table lacks fails the test, so a new route
 * cannot be forgotten. Callers: no token, a revoked and an expired agent session, the operator, the
 * agent of another wallet, the wallet's agent, another owner, the wallet's owner (without
 * X-Owner-Unlock: owner-key acts must answer 401 OWNER_UNLOCK_REQUIRED). Every refused call is made
 * first, and the database is shown unchanged by them (apart from the audit log's auth.failure entries).
 */
import { randomBytes } from 'node:crypto';
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateToken, hashToken } from '../../src/core/tokens.ts';
import { insertDeliveries } from '../../src/store/outbox.ts';
import { bearer, createOwnerWalletSession, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { type Receiver, startReceiver, waitFor } from '../webhooks/receiver.ts';
import { quiescent, stateOf } from './helpers.ts';

const CALLERS = [
  'none',
  'revoked',
  'expired',
  'operator',
  'otherAgent',
  'agent',
  'otherOwner',
  'owner',
] as const;
type Caller = (typeof CALLERS)[number];

/** An expected answer: a success status, or a refusal by its status and code. */
type Expected = 200 | 201 | 202 | 204 | 'UNAUTH' | 'REVOKED' | 'EXPIRED' | 'FORBID' | 'NOTFOUND' | 'UNLOCK';

const REFUSALS: Record<Exclude<Expected, number>, [number, string]> = {
  UNAUTH: [401, 'UNAUTHORIZED'],
  REVOKED: [401, 'SESSION_REVOKED'],
  EXPIRED: [401, 'SESSION_EXPIRED'],
  FORBID: [403, 'FORBIDDEN'],
  NOTFOUND: [404, 'NOT_FOUND'],
  UNLOCK: [401, 'OWNER_UNLOCK_REQUIRED'],
};

const U = 'UNAUTH';
const R = 'REVOKED';
const E = 'EXPIRED';
const F = 'FORBID';
const N = 'NOTFOUND';
const L = 'UNLOCK';

// biome-ignore format: the table reads as a table.
const MATRIX: Record<string, readonly Expected[]> = {
  //                                                         none revoked expired operator otherAgent agent otherOwner owner
  'GET /v1/health':                                          [200, 200,    200,    200,     200,       200,  200,       200],
  'GET /v1/ready':                                           [200, 200,    200,    200,     200,       200,  200,       200],
  'GET /v1/attestation':                                     [200, 200,    200,    200,     200,       200,  200,       200],
  'GET /metrics':                                            [U,   R,      E,      200,     F,         F,    F,         F  ],
  'GET /v1/audit':                                           [U,   R,      E,      200,     F,         F,    200,       200],
  'GET /v1/audit/verify':                                    [U,   R,      E,      200,     F,         F,    200,       200],
  'GET /v1/events':                                          [U,   R,      E,      F,       F,         F,    200,       200],
  'POST /v1/owners':                                         [U,   R,      E,      201,     F,         F,    F,         F  ],
  'POST /v1/operator-tokens':                                [U,   R,      E,      201,     F,         F,    F,         F  ],
  'GET /v1/operator-tokens':                                 [U,   R,      E,      200,     F,         F,    F,         F  ],
  'DELETE /v1/operator-tokens/{id}':                         [U,   R,      E,      204,     F,         F,    F,         F  ],
  'POST /v1/wallets':                                        [U,   R,      E,      F,       F,         F,    L,         L  ],
  'GET /v1/wallets':                                         [U,   R,      E,      F,       F,         F,    200,       200],
  'GET /v1/wallets/{id}':                                    [U,   R,      E,      F,       F,         F,    N,         200],
  'GET /v1/wallets/{id}/deposit-address':                    [U,   R,      E,      F,       N,         200,  N,         200],
  'GET /v1/wallets/{id}/balance':                            [U,   R,      E,      F,       N,         200,  N,         200],
  'GET /v1/wallets/{id}/usage':                              [U,   R,      E,      F,       N,         200,  N,         200],
  'GET /v1/wallets/{id}/policy':                             [U,   R,      E,      F,       N,         200,  N,         200],
  'PUT /v1/wallets/{id}/policy':                             [U,   R,      E,      F,       F,         F,    N,         L  ],
  'POST /v1/wallets/{id}/sessions':                          [U,   R,      E,      F,       F,         F,    N,         201],
  'GET /v1/wallets/{id}/sessions':                           [U,   R,      E,      F,       F,         F,    N,         200],
  'DELETE /v1/sessions/{id}':                                [U,   R,      E,      F,       F,         F,    N,         204],
  'GET /v1/session':                                         [U,   R,      E,      F,       200,       200,  F,         F  ],
  'POST /v1/wallets/{id}/freeze':                            [U,   R,      E,      F,       F,         F,    N,         L  ],
  'POST /v1/wallets/{id}/resume':                            [U,   R,      E,      F,       F,         F,    N,         L  ],
  'POST /v1/wallets/{id}/rotate-agent-key':                  [U,   R,      E,      F,       F,         F,    N,         L  ],
  'POST /v1/wallets/{id}/withdraw':                          [U,   R,      E,      F,       F,         F,    N,         L  ],
  'POST /v1/wallets/{id}/transfers':                         [U,   R,      E,      F,       N,         200,  N,         200],
  'POST /v1/wallets/{id}/transfers/dry-run':                 [U,   R,      E,      F,       N,         200,  N,         200],
  'GET /v1/wallets/{id}/transfers':                          [U,   R,      E,      F,       N,         200,  N,         200],
  'GET /v1/transfers/{id}':                                  [U,   R,      E,      F,       N,         200,  N,         200],
  'GET /v1/approvals':                                       [U,   R,      E,      F,       F,         F,    200,       200],
  'POST /v1/transfers/{id}/approve':                         [U,   R,      E,      F,       F,         F,    N,         L  ],
  'POST /v1/transfers/{id}/reject':                          [U,   R,      E,      F,       F,         F,    N,         200],
  'POST /v1/transfers/{id}/cancel':                          [U,   R,      E,      F,       F,         F,    N,         200],
  'POST /v1/webhooks':                                       [U,   R,      E,      F,       F,         F,    201,       201],
  'GET /v1/webhooks':                                        [U,   R,      E,      F,       F,         F,    200,       200],
  'DELETE /v1/webhooks/{id}':                                [U,   R,      E,      F,       F,         F,    N,         204],
  'GET /v1/webhooks/{id}/deliveries':                        [U,   R,      E,      F,       F,         F,    N,         200],
  'POST /v1/webhooks/{id}/deliveries/{deliveryId}/redeliver':[U,   R,      E,      F,       F,         F,    N,         202],
  'POST /v1/wallets/{id}/x402/pay':                          [U,   R,      E,      F,       N,         200,  N,         200],
  'POST /v1/wallets/{id}/float/sweep':                       [U,   R,      E,      F,       F,         F,    N,         200],
};

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

describeWithSquads('the role matrix', () => {
  let daemon: TestDaemon;
  let receiver: Receiver;
  let a: Setup;
  let b: Setup;
  const tokens = {} as Record<Caller, string | undefined>;
  /** The resource each path parameter names, per operation: always the wallet owner A's. */
  const ids: Record<string, Record<string, string>> = {};
  const bodies: Record<string, unknown> = {};
  const recipient = Keypair.generate().publicKey.toBase58();

  const post = async (url: string, token: string, payload?: unknown) => {
    const response = await daemon.app.inject({
      method: 'POST',
      url,
      headers: bearer(token),
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    if (response.statusCode >= 300) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    // x402 may fetch the receiver (it asks no payment): the allowed callers get its answer.
    daemon = await startTestDaemon({ env: { WAIAAS_X402_ALLOWED_ORIGINS: new URL(receiver.url).origin } });
    const { app, runtime } = daemon;
    const { store } = runtime;
    [a, b] = await Promise.all([createOwnerWalletSession(app, store), createOwnerWalletSession(app, store)]);
    await runtime.chain.connection.requestAirdrop(new PublicKey(a.wallet.vault), 3_000_000_000);
    await waitFor(
      async () => (await runtime.chain.connection.getBalance(new PublicKey(a.wallet.vault))) > 0 || undefined,
    );

    // A revoked session of wallet A, and an expired one (written as a session past its expiry would be).
    const revoked = await post(`/v1/wallets/${a.wallet.id}/sessions`, a.owner.token, { ttlSeconds: 600 });
    const removed = await app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${revoked.id}`,
      headers: bearer(a.owner.token),
    });
    expect(removed.statusCode).toBe(204);
    const expired = generateToken('waiaas_ses_');
    const past = BigInt(Date.now() - 60_000);
    await store.db
      .insertInto('sessions')
      .values({
        id: `ses_${randomBytes(9).toString('base64url')}`,
        wallet_id: a.wallet.id,
        token_hash: hashToken(expired),
        label: 'expired',
        expires_at: past,
        revoked_at: null,
        created_at: past - 600_000n,
      })
      .execute();
    Object.assign(tokens, {
      none: undefined,
      revoked: revoked.token,
      expired,
      operator: a.operator,
      otherAgent: b.session.token,
      agent: a.session.token,
      otherOwner: b.owner.token,
      owner: a.owner.token,
    });

    // Owner A's resources the operations with a path parameter name.
    const toRevoke = await post(`/v1/wallets/${a.wallet.id}/sessions`, a.owner.token, { ttlSeconds: 600 });
    const [kept, dropped] = [
      await post('/v1/webhooks', a.owner.token, { url: receiver.url }),
      await post('/v1/webhooks', a.owner.token, { url: receiver.url }),
    ];
    const deliveryId = `whd_${randomBytes(9).toString('base64url')}`;
    await store.writeTransaction(async (trx) => {
      const now = BigInt(Date.now());
      await insertDeliveries(trx, [
        {
          id: deliveryId,
          eventId: 'evt_matrix',
          webhookId: kept.id,
          walletId: a.wallet.id,
          type: 'monitor.alert',
          body: '{}',
          now,
        },
      ]);
      // Dead-lettered: the one state a delivery can be sent again from.
      await trx
        .updateTable('webhook_outbox')
        .set({ status: 'failed', attempts: 10n })
        .where('id', '=', deliveryId)
        .execute();
    });
    const transfer = (amount: string) =>
      post(`/v1/wallets/${a.wallet.id}/transfers`, a.session.token, { to: recipient, amount });
    const delayed = await transfer('600000000');
    const [toApprove, toReject] = [await transfer('1500000000'), await transfer('1500000001')];
    expect([delayed.status, toApprove.status, toReject.status]).toEqual([
      'delayed',
      'pending_approval',
      'pending_approval',
    ]);

    const spareOperatorToken = await post('/v1/operator-tokens', a.operator, { label: 'to revoke' });
    const wallet = { id: a.wallet.id };
    Object.assign(ids, {
      'GET /v1/wallets/{id}': wallet,
      'GET /v1/wallets/{id}/deposit-address': wallet,
      'GET /v1/wallets/{id}/balance': wallet,
      'GET /v1/wallets/{id}/usage': wallet,
      'GET /v1/wallets/{id}/policy': wallet,
      'PUT /v1/wallets/{id}/policy': wallet,
      'POST /v1/wallets/{id}/sessions': wallet,
      'GET /v1/wallets/{id}/sessions': wallet,
      'DELETE /v1/sessions/{id}': { id: toRevoke.id },
      'POST /v1/wallets/{id}/freeze': wallet,
      'POST /v1/wallets/{id}/resume': wallet,
      'POST /v1/wallets/{id}/rotate-agent-key': wallet,
      'POST /v1/wallets/{id}/withdraw': wallet,
      'POST /v1/wallets/{id}/transfers': wallet,
      'POST /v1/wallets/{id}/transfers/dry-run': wallet,
      'GET /v1/wallets/{id}/transfers': wallet,
      'GET /v1/transfers/{id}': { id: delayed.id },
      'POST /v1/transfers/{id}/approve': { id: toApprove.id },
      'POST /v1/transfers/{id}/reject': { id: toReject.id },
      'POST /v1/transfers/{id}/cancel': { id: delayed.id },
      'DELETE /v1/webhooks/{id}': { id: dropped.id },
      'DELETE /v1/operator-tokens/{id}': { id: spareOperatorToken.id },
      'GET /v1/webhooks/{id}/deliveries': { id: kept.id },
      'POST /v1/webhooks/{id}/deliveries/{deliveryId}/redeliver': { id: kept.id, deliveryId },
      'POST /v1/wallets/{id}/x402/pay': wallet,
      'POST /v1/wallets/{id}/float/sweep': wallet,
    });
    Object.assign(bodies, {
      'POST /v1/owners': { name: 'Matrix owner', signer: { kind: 'local', passphrase: 'matrix passphrase' } },
      'POST /v1/wallets': { name: 'Matrix wallet', policy: starterPolicy() },
      'PUT /v1/wallets/{id}/policy': { policy: starterPolicy({ version: 2 }) },
      'POST /v1/wallets/{id}/sessions': { ttlSeconds: 600 },
      'POST /v1/wallets/{id}/resume': {},
      'POST /v1/wallets/{id}/withdraw': { to: recipient, amount: '1000000' },
      'POST /v1/wallets/{id}/transfers': { to: recipient, amount: '1000000' },
      'POST /v1/wallets/{id}/transfers/dry-run': { to: recipient, amount: '1000000' },
      'POST /v1/webhooks': { url: receiver.url },
      'POST /v1/wallets/{id}/x402/pay': { url: receiver.url, maxAmount: '1000' },
      'POST /v1/operator-tokens': { label: 'matrix' },
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await daemon?.close();
  });

  const operationsOf = async (): Promise<string[]> => {
    const doc = (await daemon.app.inject('/openapi.json')).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    return Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
  };

  const request = async (operation: string, caller: Caller) => {
    const [method, template] = operation.split(' ') as [string, string];
    const url = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = ids[operation]?.[name];
      if (value === undefined) throw new Error(`no ${name} for ${operation}`);
      return value;
    });
    const token = tokens[caller];
    const body = bodies[operation];
    const response = await daemon.app.inject({
      method: method as 'GET',
      url: operation === 'GET /v1/attestation' ? `${url}?nonce=${'ab'.repeat(16)}` : url,
      headers: token === undefined ? {} : bearer(token),
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    const code = response.headers['content-type']?.toString().includes('json')
      ? ((response.json() as { code?: string }).code ?? null)
      : null;
    return { status: response.statusCode, code };
  };

  const answerOf = (expected: Expected) =>
    typeof expected === 'number'
      ? { status: expected }
      : { status: REFUSALS[expected][0], code: REFUSALS[expected][1] };

  it('the table covers every operation of the OpenAPI document, and no more', async () => {
    const documented = await operationsOf();
    const missing = documented.filter((operation) => MATRIX[operation] === undefined);
    expect(missing, 'operations without a row in MATRIX: add one').toEqual([]);
    const gone = Object.keys(MATRIX).filter(
      (operation) => operation !== 'GET /metrics' && !documented.includes(operation),
    );
    expect(gone, 'rows of MATRIX for operations no longer documented').toEqual([]);
    for (const [operation, row] of Object.entries(MATRIX))
      expect([operation, row.length]).toEqual([operation, CALLERS.length]);
  });

  it('every refusal answers its status and code, and changes nothing', async () => {
    const refusals = Object.entries(MATRIX).flatMap(([operation, row]) =>
      CALLERS.flatMap((caller, index) =>
        typeof row[index] === 'number' ? [] : [{ operation, caller, expected: row[index]! }],
      ),
    );
    const withoutAudit = (state: Awaited<ReturnType<typeof stateOf>>) => {
      const { audit_log: _log, ...counts } = state.counts;
      return { ...state, counts, head: undefined };
    };
    await quiescent(daemon.runtime.store);
    const before = withoutAudit(await stateOf(daemon.runtime.store));
    const wrong: string[] = [];
    for (const { operation, caller, expected } of refusals) {
      const got = await request(operation, caller);
      const want = answerOf(expected);
      if (got.status !== want.status || got.code !== want.code)
        wrong.push(
          `${operation} as ${caller}: expected ${want.status} ${want.code}, got ${got.status} ${got.code}`,
        );
    }
    expect(wrong).toEqual([]);
    expect(withoutAudit(await stateOf(daemon.runtime.store))).toEqual(before);
  });

  it('every allowed caller gets its answer', async () => {
    const wrong: string[] = [];
    for (const [operation, row] of Object.entries(MATRIX)) {
      // The wallet's owner last: some of these calls change what the others would see.
      for (const caller of CALLERS) {
        const expected = row[CALLERS.indexOf(caller)]!;
        if (typeof expected !== 'number') continue;
        const got = await request(operation, caller);
        if (got.status !== expected)
          wrong.push(`${operation} as ${caller}: expected ${expected}, got ${got.status} ${got.code}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the agent never approves, changes policy, sees another wallet or acts after revocation or expiry', () => {
    const agent = CALLERS.indexOf('agent');
    const otherAgent = CALLERS.indexOf('otherAgent');
    for (const operation of [
      'POST /v1/transfers/{id}/approve',
      'PUT /v1/wallets/{id}/policy',
      'GET /v1/approvals',
    ])
      expect([operation, MATRIX[operation]![agent]]).toEqual([operation, F]);
    for (const [operation, row] of Object.entries(MATRIX)) {
      if (operation.includes('{id}') && operation !== 'GET /v1/health')
        expect([operation, typeof row[otherAgent]]).toEqual([operation, 'string']);
      if (row[0] !== 200) {
        expect([operation, row[CALLERS.indexOf('revoked')]]).toEqual([operation, R]);
        expect([operation, row[CALLERS.indexOf('expired')]]).toEqual([operation, E]);
      }
    }
  });
});
