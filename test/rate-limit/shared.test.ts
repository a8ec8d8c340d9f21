/**
 * Rate limits shared through PostgreSQL: two apps on one database, as two replicas behind a load
 * balancer, enforce ONE limit per token and per address. Requests spread over both (and sent all at
 * once) get exactly `max` through; the next is 429 RATE_LIMITED whichever replica gets it; 401s from
 * either replica count against the address on both; a window that ended lets requests through again.
 * (The whole-daemon version, two `waiaas start` processes, is in test/transfers/replicas.test.ts.)
 */
import type { FastifyInstance } from 'fastify';
import { expect, it } from 'vitest';
import { generateToken } from '../../src/core/tokens.ts';
import { buildApp } from '../../src/daemon/app.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { PrincipalCache } from '../../src/daemon/principal-cache.ts';
import { auditRoutes } from '../../src/daemon/routes/audit.ts';
import { readChainStatus } from '../../src/solana/chain-status.ts';
import { pruneWindows } from '../../src/store/rate-limit-windows.ts';
import type { Store } from '../../src/store/store.ts';
import { seedOperator } from '../audit/fixtures.ts';
import { bearer } from '../support/api.ts';
import { forEachEngine } from '../support/databases.ts';

const MAX_PER_TOKEN = 5;
const MAX_PER_IP = 4;

forEachEngine(
  (_engine, { makeDatabase }) => {
    let clock = 1_000_000;
    // The daemon's app as buildApp makes it, its limits given the way server.ts gives them.
    const replica = async (store: Store) => {
      // One per replica, shared by its app and routes, as runtime.services.principals is.
      const principals = new PrincipalCache(store);
      const app = await buildApp({
        logger: createLogger('silent'),
        store,
        principals,
        health: {
          version: '0.0.0-test',
          network: 'localnet',
          startedAt: Date.now(),
          readDatabase: () => store.health(),
          readChain: () => readChainStatus('http://127.0.0.1:9', 500),
        },
        rateLimit: {
          perToken: { max: MAX_PER_TOKEN, windowSeconds: 60 },
          perIp: { max: MAX_PER_IP, windowSeconds: 60 },
          now: () => clock,
        },
        routes: [auditRoutes({ store, principals })],
      });
      await app.ready();
      return app;
    };
    const twoReplicas = async () => {
      const database = await makeDatabase();
      const [storeA, storeB] = [await database.open(), await database.open()];
      const apps = [await replica(storeA), await replica(storeB)] as const;
      return { store: storeA, apps, close: () => Promise.all(apps.map((app) => app.close())) };
    };
    const get = (app: FastifyInstance, token?: string, ip = '10.0.0.1') =>
      app.inject({ method: 'GET', url: '/v1/audit', remoteAddress: ip, headers: token ? bearer(token) : {} });

    it('one token, two replicas, all at once: exactly the limit gets through, the rest are 429 on both', async () => {
      const { store, apps, close } = await twoReplicas();
      try {
        const token = await seedOperator(store);
        const answers = await Promise.all(
          Array.from({ length: 3 * MAX_PER_TOKEN }, (_, index) => get(apps[index % 2]!, token)),
        );
        const codes = answers.map((answer) => answer.statusCode);
        expect(codes.filter((code) => code === 200)).toHaveLength(MAX_PER_TOKEN);
        expect(codes.filter((code) => code === 429)).toHaveLength(2 * MAX_PER_TOKEN);
        const limited = answers.find((answer) => answer.statusCode === 429)!;
        expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', details: { scope: 'token' } });
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      } finally {
        await close();
      }
    });

    it('the (N+1)th request is refused whichever replica gets it, and the window ending lets it through', async () => {
      const { store, apps, close } = await twoReplicas();
      try {
        const token = await seedOperator(store);
        for (let n = 0; n < MAX_PER_TOKEN; n++) expect((await get(apps[n % 2]!, token)).statusCode).toBe(200);
        for (const app of apps) {
          const refused = await get(app, token);
          expect(refused.statusCode).toBe(429);
          expect(refused.json()).toMatchObject({
            code: 'RATE_LIMITED',
            details: { scope: 'token', retryAfterSeconds: 60 },
          });
        }
        clock += 60_000;
        expect((await get(apps[1], token)).statusCode).toBe(200);
        // Ended windows are forgotten without changing anything.
        expect(await pruneWindows(store.db, clock + 1)).toBeGreaterThan(0);
        expect((await get(apps[0], token)).statusCode).toBe(200);
      } finally {
        await close();
      }
    });

    it('token guesses answered 401 by either replica count against the address on both', async () => {
      const { store, apps, close } = await twoReplicas();
      try {
        const operator = await seedOperator(store);
        const guesses = [];
        for (let n = 0; n < MAX_PER_IP; n++)
          guesses.push((await get(apps[n % 2]!, generateToken('waiaas_own_'), '10.0.0.9')).statusCode);
        expect(guesses).toEqual(Array(MAX_PER_IP).fill(401));
        // A 401 is counted after it was answered (onResponse): wait until the last one is.
        await expect
          .poll(async () => {
            const row = await store.db
              .selectFrom('rate_limit_windows')
              .select('count')
              .where('key', '=', 'i:10.0.0.9')
              .executeTakeFirst();
            return Number(row?.count ?? 0);
          })
          .toBe(MAX_PER_IP);
        for (const app of apps) {
          const valid = await get(app, operator, '10.0.0.9');
          expect(valid.statusCode).toBe(429);
          expect(valid.json().details.scope).toBe('ip');
          const anonymous = await get(app, undefined, '10.0.0.9');
          expect(anonymous.statusCode).toBe(429);
        }
        // Another address is not affected.
        expect((await get(apps[0], operator, '10.0.0.10')).statusCode).toBe(200);
      } finally {
        await close();
      }
    });
  },
  ['postgres'],
);
