import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken, hashToken } from '../../src/core/tokens.ts';
import { buildApp } from '../../src/daemon/app.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { PrincipalCache } from '../../src/daemon/principal-cache.ts';
import { readChainStatus } from '../../src/solana/chain-status.ts';
import { insertOperatorToken, revokeOperatorToken, type Store } from '../../src/store/index.ts';
import { forEachEngine } from '../support/databases.ts';

forEachEngine((engine, { makeStore }) => {
  describe(`daemon app (${engine})`, () => {
    let store: Store;
    let app: FastifyInstance;
    const operatorToken = generateToken('waiaas_op_');
    let tokenId: string;

    beforeAll(async () => {
      store = await makeStore();
      tokenId = (await insertOperatorToken(store.db, { tokenHash: hashToken(operatorToken), label: 'test' }))
        .id;
      app = await buildApp({
        logger: createLogger('silent'),
        store,
        principals: new PrincipalCache(store),
        health: {
          version: '0.0.0-test',
          network: 'localnet',
          startedAt: Date.now(),
          readDatabase: () => store.health(),
          // Port 9 (discard) on loopback: nothing answers, as when the chain is down.
          readChain: () => readChainStatus('http://127.0.0.1:9', 500),
        },
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('health reports the database up and the chain down as degraded', async () => {
      const response = await app.inject({ method: 'GET', url: '/v1/health' });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({
        status: 'degraded',
        network: 'localnet',
        db: { ok: true, engine },
        chain: { ok: false, rpcUrl: 'http://127.0.0.1:9' },
        squads: { status: 'unknown' },
      });
    });

    it('health answers 503 "down" when the database is gone', async () => {
      const other = await makeStore();
      const brokenApp = await buildApp({
        logger: createLogger('silent'),
        store: other,
        principals: new PrincipalCache(other),
        health: {
          version: '0',
          network: 'localnet',
          startedAt: Date.now(),
          readDatabase: () => other.health(),
          readChain: () => readChainStatus('http://127.0.0.1:9', 200),
        },
      });
      await other.close();
      // Health answers from state refreshed in the background: the loss shows within a refresh.
      await expect
        .poll(async () => (await brokenApp.inject({ method: 'GET', url: '/v1/health' })).statusCode, {
          timeout: 10_000,
        })
        .toBe(503);
      const response = await brokenApp.inject({ method: 'GET', url: '/v1/health' });
      expect(response.json()).toMatchObject({ status: 'down', db: { ok: false } });
      await brokenApp.close();
    });

    it('serves an OpenAPI document generated from the route schemas, and the docs page', async () => {
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(document.openapi).toBe('3.1.0');
      const health = document.paths['/v1/health'].get;
      expect(health.responses['200']).toBeDefined();
      const schemaText = JSON.stringify(document);
      expect(schemaText).toContain('squads');
      const docs = await app.inject({ method: 'GET', url: '/docs/' });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers['content-type']).toContain('text/html');
    });

    it('answers unknown routes with an RFC 9457 problem', async () => {
      const response = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ status: 404, code: 'NOT_FOUND', retryable: false });
    });

    it('serves metrics to the operator only, and not after the token is revoked', async () => {
      expect((await app.inject({ method: 'GET', url: '/metrics' })).json()).toMatchObject({
        status: 401,
        code: 'UNAUTHORIZED',
      });
      const wrong = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${generateToken('waiaas_op_')}` },
      });
      expect(wrong.statusCode).toBe(401);
      const right = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${operatorToken}` },
      });
      expect(right.statusCode).toBe(200);
      expect(right.body).toContain('waiaas_http_request_duration_seconds_bucket');
      expect(right.body).toContain('route="/v1/health"');

      await revokeOperatorToken(store.db, tokenId);
      const revoked = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${operatorToken}` },
      });
      expect(revoked.statusCode).toBe(401);
    });
  });
});
