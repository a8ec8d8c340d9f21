import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/core/tokens.ts';
import { registerRateLimit, TokenBuckets } from '../../src/daemon/plugins/rate-limit.ts';
import { PrincipalCache } from '../../src/daemon/principal-cache.ts';
import { auditRoutes } from '../../src/daemon/routes/audit.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { buildRoutesApp, type SeededOwner, seedOperator, seedOwner } from '../audit/fixtures.ts';
import { bearer } from '../support/api.ts';

describe('rate limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waiaas-rate-limit-'));
  let store: Store;
  let app: FastifyInstance;
  let owners: SeededOwner[];
  let operator: string;
  let clock = 1_000_000;

  const get = (url: string, token?: string, ip = '10.0.0.1') =>
    app.inject({ method: 'GET', url, remoteAddress: ip, headers: token === undefined ? {} : bearer(token) });
  const statuses = async (count: number, request: () => ReturnType<typeof get>) => {
    const codes: number[] = [];
    for (let n = 0; n < count; n++) codes.push((await request()).statusCode);
    return codes;
  };

  beforeAll(async () => {
    store = await openStore({ sqlitePath: join(dir, 'waiaas.sqlite') });
    owners = [await seedOwner(store, 'A'), await seedOwner(store, 'B'), await seedOwner(store, 'C')];
    operator = await seedOperator(store);
    app = await buildRoutesApp(
      store,
      [auditRoutes({ store, principals: new PrincipalCache(store) })],
      (root) =>
        registerRateLimit(root, {
          perToken: { max: 3, windowSeconds: 60 },
          perIp: { max: 4, windowSeconds: 60 },
          now: () => clock,
        }),
    );
  });
  beforeEach(() => {
    // Every test starts with full buckets: an hour later.
    clock += 3_600_000;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 429 RATE_LIMITED with Retry-After to a token over its limit, and not to another token', async () => {
    const [a, b] = owners;
    expect(await statuses(3, () => get('/v1/audit', a!.ownerToken))).toEqual([200, 200, 200]);
    const limited = await get('/v1/audit', a!.ownerToken);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('20');
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json()).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      details: { scope: 'token', retryAfterSeconds: 20 },
    });
    expect((await get('/v1/audit', b!.ownerToken)).statusCode).toBe(200);
  });

  it('recovers as the window refills', async () => {
    const [a] = owners;
    await statuses(4, () => get('/v1/audit', a!.ownerToken));
    expect((await get('/v1/audit', a!.ownerToken)).statusCode).toBe(429);
    clock += 19_000;
    expect((await get('/v1/audit', a!.ownerToken)).headers['retry-after']).toBe('1');
    clock += 1_000;
    expect((await get('/v1/audit', a!.ownerToken)).statusCode).toBe(200);
    expect((await get('/v1/audit', a!.ownerToken)).statusCode).toBe(429);
    clock += 60_000;
    expect(await statuses(3, () => get('/v1/audit', a!.ownerToken))).toEqual([200, 200, 200]);
  });

  it('limits requests without a token per IP, and other addresses are unaffected', async () => {
    expect(await statuses(4, () => get('/v1/audit', undefined, '10.0.0.2'))).toEqual([401, 401, 401, 401]);
    const limited = await get('/v1/audit', undefined, '10.0.0.2');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().details).toEqual({ scope: 'ip', retryAfterSeconds: 15 });
    expect(limited.headers['retry-after']).toBe('15');
    expect((await get('/v1/audit', undefined, '10.0.0.3')).statusCode).toBe(401);
  });

  it('throttles token guessing from one address, even for a valid token from there', async () => {
    const guesses = await statuses(4, () => get('/v1/audit', generateToken('waiaas_own_'), '10.0.0.4'));
    expect(guesses).toEqual([401, 401, 401, 401]);
    const valid = await get('/v1/audit', operator, '10.0.0.4');
    expect(valid.statusCode).toBe(429);
    expect(valid.json().details.scope).toBe('ip');
    expect((await get('/v1/audit', operator, '10.0.0.5')).statusCode).toBe(200);
  });

  it('limits authenticated traffic from a shared address per token, not per address', async () => {
    let n = 0;
    const codes = await statuses(9, () => get('/v1/audit', owners[n++ % 3]!.ownerToken, '10.0.0.6'));
    expect(codes).toEqual(Array(9).fill(200));
  });

  it('never limits health checks or metrics scrapes', async () => {
    const health = await statuses(10, () => get('/v1/health', undefined, '10.0.0.7'));
    expect(health.includes(429)).toBe(false);
    const metrics = await statuses(10, () => get('/metrics', operator, '10.0.0.7'));
    expect(metrics).toEqual(Array(10).fill(200));
  });
});

describe('token buckets', () => {
  it('stay within their size bound by forgetting the least recently seen clients, not the busy ones', () => {
    const buckets = new TokenBuckets({ max: 2, windowSeconds: 60 }, 10);
    for (let n = 0; n < 20; n++) {
      buckets.take(`idle-${n}`, 0);
      buckets.take('busy', 0);
    }
    expect(buckets.size).toBeLessThanOrEqual(10);
    expect(buckets.take('busy', 0)).toBe(30);
  });
});
