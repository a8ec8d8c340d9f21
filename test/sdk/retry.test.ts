import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  EnclaveUnavailableError,
  PolicyRefusedError,
  RateLimitedError,
  sol,
  ValidationError,
  WaiaasNetworkError,
} from '../../src/sdk/index.ts';
import { problemBody, type ScriptedServer, startScriptedServer } from '../support/scripted-http-server.ts';

const WALLET = 'wal_1';
const TO = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';
const enclaveDown = { status: 503, body: problemBody('ENCLAVE_UNAVAILABLE', 503, true) };
const confirmed = {
  status: 200,
  body: { id: 'trf_1', status: 'confirmed', tier: 'instant', signature: 'sig' },
};
const wallet = { status: 200, body: { id: WALLET, name: 'w' } };

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
});

const client = (extra: Parameters<typeof createClient>[0] extends infer O ? Partial<O> : never = {}) =>
  createClient({ url: server.url, token: 'waiaas_ses_test', retry: { baseDelayMs: 5 }, ...extra });

describe('retrying transient failures', () => {
  it('retries a GET answered 503 until it succeeds', async () => {
    server.script(enclaveDown, enclaveDown, wallet);
    await expect(client().wallets.get(WALLET)).resolves.toMatchObject({ id: WALLET });
    expect(server.requests).toHaveLength(3);
    expect(server.requests.every((request) => request.url === `/v1/wallets/${WALLET}`)).toBe(true);
  });

  it('gives up after the bounded number of attempts with the typed error', async () => {
    server.script(enclaveDown);
    const error = await client({ retry: { attempts: 3, baseDelayMs: 1 } })
      .wallets.get(WALLET)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EnclaveUnavailableError);
    expect(error).toMatchObject({ code: 'ENCLAVE_UNAVAILABLE', retryable: true });
    expect(server.requests).toHaveLength(3);
  });

  it('waits at least what Retry-After asks before the next attempt', async () => {
    server.script(
      { status: 429, body: problemBody('RATE_LIMITED', 429, true), headers: { 'retry-after': '1' } },
      wallet,
    );
    await client({ retry: { random: () => 0 } }).wallets.get(WALLET);
    expect(server.requests).toHaveLength(2);
    const waited = server.requests[1]!.at - server.requests[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(950);
  });

  it('does not sit through a Retry-After longer than allowed: the caller gets RateLimitedError with it', async () => {
    server.script(
      { status: 429, body: problemBody('RATE_LIMITED', 429, true), headers: { 'retry-after': '120' } },
      wallet,
    );
    const error = await client()
      .wallets.get(WALLET)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfter).toBe(120);
    expect(server.requests).toHaveLength(1);
  });

  it('grows the backoff exponentially (full jitter, pinned to its ceiling)', async () => {
    server.script(enclaveDown, enclaveDown, enclaveDown, wallet);
    await client({ retry: { baseDelayMs: 40, random: () => 0.999 } }).wallets.get(WALLET);
    const gaps = server.requests.slice(1).map((request, index) => request.at - server.requests[index]!.at);
    expect(gaps).toHaveLength(3);
    // Ceilings 40, 80, 160 ms: each wait at least ~its ceiling, and the later ones longer than the first.
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(75);
    expect(gaps[2]).toBeGreaterThanOrEqual(155);
  });

  it('retries a transfer with the same idempotency key in the header and the body every time', async () => {
    server.script(enclaveDown, { destroy: true }, confirmed);
    const sent = await client().transfers.send(WALLET, { to: TO, amount: sol('0.05') });
    expect(sent).toMatchObject({ id: 'trf_1', status: 'confirmed', tier: 'instant' });
    expect(server.requests).toHaveLength(3);
    const keys = server.requests.map((request) => request.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const request of server.requests) {
      expect(JSON.parse(request.body)).toEqual({ to: TO, amount: '50000000', idempotencyKey: keys[0] });
    }
    expect(sent.idempotencyKey).toBe(keys[0]);
  });

  it('gives every new transfer a new key, and keeps a key the caller chose', async () => {
    server.script(confirmed);
    await client().transfers.send(WALLET, { to: TO, amount: 1n });
    await client().transfers.send(WALLET, { to: TO, amount: 1n });
    await client().transfers.send(WALLET, { to: TO, amount: 1n, idempotencyKey: 'order-42' });
    const keys = server.requests.map((request) => request.headers['idempotency-key']);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys[2]).toBe('order-42');
  });

  it('never retries a POST without an idempotency key (503 or no answer at all)', async () => {
    server.script(enclaveDown, { status: 201, body: { id: 'ses_1', token: 't', expiresAt: 'x' } });
    await expect(client().sessions.create(WALLET, { ttlSeconds: 3600 })).rejects.toBeInstanceOf(
      EnclaveUnavailableError,
    );
    expect(server.requests).toHaveLength(1);

    server.script({ destroy: true }, { status: 200, body: {} });
    await expect(client().wallets.rotateAgentKey(WALLET)).rejects.toBeInstanceOf(WaiaasNetworkError);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a repeatable owner act (freeze) and a non-idempotent one when the caller gives a key', async () => {
    const frozen = { status: 200, body: { walletId: WALLET, status: 'frozen' } };
    server.script(enclaveDown, frozen);
    await client().wallets.freeze(WALLET);
    expect(server.requests).toHaveLength(2);

    server.script(enclaveDown, { status: 200, body: { id: 'trf_9', status: 'confirmed' } });
    await client().approvals.approve('trf_9', { idempotencyKey: 'approve-trf_9' });
    expect(server.requests.map((request) => request.headers['idempotency-key'])).toEqual([
      'approve-trf_9',
      'approve-trf_9',
    ]);
  });

  it('does not retry answers that cannot change: validation errors, and policy refusals even when retryable', async () => {
    server.script({ status: 400, body: problemBody('VALIDATION_FAILED', 400, false) }, confirmed);
    await expect(client().transfers.send(WALLET, { to: TO, amount: 1n })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(server.requests).toHaveLength(1);

    server.script(
      { status: 403, body: problemBody('OUTSIDE_HOURS', 403, true, { layer: 'server' }) },
      confirmed,
    );
    const refused = await client()
      .transfers.send(WALLET, { to: TO, amount: 1n })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(PolicyRefusedError);
    expect(refused).toMatchObject({ layer: 'server', retryable: true });
    expect(server.requests).toHaveLength(1);
  });

  it('retries a dropped connection on a GET, and reports a dead daemon as a network error', async () => {
    server.script({ destroy: true }, wallet);
    await client().wallets.get(WALLET);
    expect(server.requests).toHaveLength(2);

    const dead = createClient({ url: 'http://127.0.0.1:9', retry: { attempts: 2, baseDelayMs: 1 } });
    const error = await dead.health().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WaiaasNetworkError);
    expect(error).toMatchObject({ retryable: true, code: 'NETWORK_ERROR' });
  });

  it('retry: false makes one attempt; a per-attempt timeout counts as a network failure', async () => {
    server.script(enclaveDown, wallet);
    await expect(client({ retry: false }).wallets.get(WALLET)).rejects.toBeInstanceOf(
      EnclaveUnavailableError,
    );
    expect(server.requests).toHaveLength(1);

    server.script({ ...wallet, delayMs: 1_000 }, wallet);
    await client({ timeoutMs: 150 }).wallets.get(WALLET);
    expect(server.requests).toHaveLength(2);

    server.script({ status: 201, body: {}, delayMs: 1_000 });
    const error = await client({ timeoutMs: 150 })
      .sessions.create(WALLET, { ttlSeconds: 3600 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WaiaasNetworkError);
    expect(server.requests).toHaveLength(1);
  });

  it('stops waiting when the caller aborts during a backoff', async () => {
    server.script({
      status: 429,
      body: problemBody('RATE_LIMITED', 429, true),
      headers: { 'retry-after': '10' },
    });
    const controller = new AbortController();
    const started = Date.now();
    const pending = client()
      .wallets.get(WALLET, { signal: controller.signal })
      .catch((caught: unknown) => caught);
    setTimeout(() => controller.abort(new Error('caller gave up')), 100);
    const error = await pending;
    expect((error as Error).message).toBe('caller gave up');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('what each call sends', () => {
  it('sends X-Owner-Unlock only with owner-key acts, the per-call factor over the client’s', async () => {
    server.script({ status: 200, body: { walletId: WALLET, status: 'frozen' } });
    const owner = client({ token: 'waiaas_own_x', ownerUnlock: 'client passphrase' });
    await owner.wallets.get(WALLET);
    await owner.wallets.freeze(WALLET);
    await owner.wallets.freeze(WALLET, { ownerUnlock: 'call passphrase' });
    expect(server.requests.map((request) => request.headers['x-owner-unlock'])).toEqual([
      undefined,
      'client passphrase',
      'call passphrase',
    ]);
    expect(server.requests.every((request) => request.headers.authorization === 'Bearer waiaas_own_x')).toBe(
      true,
    );
  });

  it('encodes path parameters so an id cannot reach another route', async () => {
    server.script(wallet);
    await client().wallets.get('../owners?x=1');
    expect(server.requests[0]!.url).toBe('/v1/wallets/..%2Fowners%3Fx%3D1');
  });

  it('follows nextCursor through every page of a list, lazily', async () => {
    const pages: Record<string, unknown> = {
      '': {
        items: [
          { id: 'a', amount: '1' },
          { id: 'b', amount: '2' },
        ],
        nextCursor: 'c1',
      },
      c1: { items: [{ id: 'c', amount: '3' }], nextCursor: 'c2' },
      c2: { items: [{ id: 'd', amount: '18446744073709551615' }], nextCursor: null },
    };
    server.script((request) => {
      const cursor = new URL(request.url, 'http://x').searchParams.get('cursor') ?? '';
      return { status: 200, body: pages[cursor] };
    });
    const ids: string[] = [];
    const amounts: bigint[] = [];
    for await (const transfer of client().transfers.list(WALLET, { limit: 2 })) {
      ids.push(transfer.id);
      amounts.push(transfer.amount);
    }
    expect(ids).toEqual(['a', 'b', 'c', 'd']);
    expect(amounts).toEqual([1n, 2n, 3n, 18_446_744_073_709_551_615n]);
    expect(server.requests.map((request) => request.url)).toEqual([
      `/v1/wallets/${WALLET}/transfers?limit=2`,
      `/v1/wallets/${WALLET}/transfers?cursor=c1&limit=2`,
      `/v1/wallets/${WALLET}/transfers?cursor=c2&limit=2`,
    ]);

    server.script((request) => {
      const cursor = new URL(request.url, 'http://x').searchParams.get('cursor') ?? '';
      return { status: 200, body: pages[cursor] };
    });
    expect((await client().transfers.list(WALLET).toArray(2)).map((item) => item.id)).toEqual(['a', 'b']);
    expect(server.requests).toHaveLength(1);
  });
});
