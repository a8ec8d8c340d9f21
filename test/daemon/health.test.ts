/**
 * GET /v1/health answers from state kept current in the background: requests never cause reads, a
 * part that stops answering does not hold them up, and a change shows within a refresh interval.
 * GET /v1/ready reads every part live, one live read shared by concurrent callers. Health is exempt
 * from the per-address limit (load balancers poll it from one address); readiness is not.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterEach, describe, expect, it } from 'vitest';
import { registerRateLimit } from '../../src/daemon/plugins/rate-limit.ts';
import { registerProblemHandlers } from '../../src/daemon/problem.ts';
import { type HealthDependencies, healthRoutes, healthSchema } from '../../src/daemon/routes/health.ts';
import { type HealthRefreshIntervals, HealthState } from '../../src/daemon/runtime/health-state.ts';
import type { ChainStatus } from '../../src/solana/chain-status.ts';

interface Parts {
  dbOk: boolean;
  chainOk: boolean;
  /** While set, the chain read hangs until it resolves. */
  chainStall?: Promise<void>;
}

const counting = (parts: Parts) => {
  const calls = { db: 0, chain: 0, runtime: 0 };
  const deps: HealthDependencies = {
    version: '0.0.0-test',
    network: 'localnet',
    startedAt: Date.now(),
    readDatabase: async () => {
      calls.db++;
      return parts.dbOk
        ? { ok: true, engine: 'sqlite', latencyMs: 0.1 }
        : { ok: false, engine: 'sqlite', latencyMs: 0.1, error: 'gone' };
    },
    readChain: async (): Promise<ChainStatus> => {
      calls.chain++;
      if (parts.chainStall) await parts.chainStall;
      return parts.chainOk
        ? { ok: true, rpcUrl: 'http://chain', slot: '7', latencyMs: 1, squads: { status: 'loaded' } }
        : { ok: false, rpcUrl: 'http://chain', latencyMs: 1, error: 'down', squads: { status: 'unknown' } };
    },
    readRuntime: async () => {
      calls.runtime++;
      return {
        enclave: {
          state: 'up',
          restarts: 0,
          since: new Date(0).toISOString(),
          isolation: 'process',
          seedProtection: 'enclave-local-key',
        },
      };
    },
  };
  return { deps, calls };
};

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function healthApp(
  deps: HealthDependencies,
  intervals: Partial<HealthRefreshIntervals>,
  perIp?: number,
) {
  const app = Fastify({ logger: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  if (perIp !== undefined) registerRateLimit(app, { perIp: { max: perIp, windowSeconds: 60 } });
  const state = new HealthState(deps, intervals);
  app.addHook('onClose', async () => state.stop());
  await app.register(healthRoutes(state));
  await app.ready();
  apps.push(app);
  return app;
}

const QUIET: Partial<HealthRefreshIntervals> = { databaseMs: 60_000, chainMs: 60_000, runtimeMs: 60_000 };

describe('health from background state', () => {
  it('answers without reading anything per request, in the documented shape', async () => {
    const { deps, calls } = counting({ dbOk: true, chainOk: true });
    const app = await healthApp(deps, QUIET);
    for (let index = 0; index < 50; index++) {
      const response = await app.inject({ method: 'GET', url: '/v1/health' });
      expect(response.statusCode).toBe(200);
    }
    expect(calls).toEqual({ db: 1, chain: 1, runtime: 1 });
    const response = await app.inject({ method: 'GET', url: '/v1/health' });
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = healthSchema.parse(response.json());
    expect(body).toMatchObject({ status: 'ok', db: { ok: true }, chain: { ok: true, slot: '7' } });
    expect(Date.parse(body.checkedAt!.chain)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps answering while a part hangs, and shows a change within a refresh interval', async () => {
    let release = () => {};
    const parts: Parts = { dbOk: true, chainOk: true };
    const { deps } = counting(parts);
    const app = await healthApp(deps, { databaseMs: 50, chainMs: 50, runtimeMs: 50 });
    expect((await app.inject({ method: 'GET', url: '/v1/health' })).json().status).toBe('ok');

    parts.chainStall = new Promise<void>((resolve) => {
      release = resolve;
    });
    parts.chainOk = false;
    parts.dbOk = false;
    // The chain read hangs; the database's change still shows, and no request waits for the chain.
    await expect
      .poll(async () => (await app.inject({ method: 'GET', url: '/v1/health' })).statusCode, {
        timeout: 5_000,
      })
      .toBe(503);
    expect((await app.inject({ method: 'GET', url: '/v1/health' })).json()).toMatchObject({
      status: 'down',
      chain: { ok: true },
    });
    release();
    parts.chainStall = undefined;
    await expect
      .poll(async () => (await app.inject({ method: 'GET', url: '/v1/health' })).json().chain.ok, {
        timeout: 5_000,
      })
      .toBe(false);
  });

  it('GET /v1/ready reads live, once for concurrent callers, and answers 503 unless every part is up', async () => {
    const parts: Parts = { dbOk: true, chainOk: true };
    const { deps, calls } = counting(parts);
    const app = await healthApp(deps, { ...QUIET, liveMinIntervalMs: 60_000 });
    parts.chainOk = false;
    // The background state has not seen it yet; readiness reads the chain now.
    expect((await app.inject({ method: 'GET', url: '/v1/health' })).json().status).toBe('ok');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => app.inject({ method: 'GET', url: '/v1/ready' })),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(20).fill(503));
    expect(answers[0]!.json()).toMatchObject({ status: 'degraded', chain: { ok: false } });
    expect(calls.chain).toBe(2);
    // Within the minimum interval, the latest live read is the answer.
    parts.chainOk = true;
    expect((await app.inject({ method: 'GET', url: '/v1/ready' })).statusCode).toBe(503);
    expect(calls.chain).toBe(2);
  });

  it('health is never refused by the per-address limit; readiness is limited like the API', async () => {
    const { deps } = counting({ dbOk: true, chainOk: true });
    const app = await healthApp(deps, QUIET, 3);
    const health = await Promise.all(
      Array.from({ length: 20 }, () =>
        app.inject({ method: 'GET', url: '/v1/health', remoteAddress: '10.1.1.1' }),
      ),
    );
    expect(health.map((answer) => answer.statusCode)).toEqual(Array(20).fill(200));
    const ready: number[] = [];
    for (let index = 0; index < 4; index++) {
      ready.push(
        (await app.inject({ method: 'GET', url: '/v1/ready', remoteAddress: '10.1.1.1' })).statusCode,
      );
    }
    expect(ready).toEqual([200, 200, 200, 429]);
  });
});
