/**
 * Operator tokens can be rotated and revoked: over HTTP and with `waiaas operator token …`, a new
 * token works at once, a revoked one is refused at once, the last valid one cannot be revoked, and
 * every change is audited without the token. A changed WAIAAS_MASTER_TOKEN replaces the previous one
 * instead of adding to it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { initialise } from '../../src/cli/initialise.ts';
import { hashToken } from '../../src/core/tokens.ts';
import { loadConfig } from '../../src/daemon/config.ts';
import { PrincipalCache } from '../../src/daemon/principal-cache.ts';
import { operatorTokenRoutes } from '../../src/daemon/routes/operator-tokens.ts';
import { findActiveOperatorTokenByHash, type Store } from '../../src/store/index.ts';
import { buildRoutesApp, seedOperator } from '../audit/fixtures.ts';
import { bearer } from '../support/api.ts';
import { forEachEngine } from '../support/databases.ts';

forEachEngine((engine, { makeStore }) => {
  describe(`operator tokens (${engine})`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      vi.restoreAllMocks();
    });

    async function setUp(): Promise<{ store: Store; app: FastifyInstance; first: string }> {
      const store = await makeStore();
      const first = await seedOperator(store);
      const app = await buildRoutesApp(store, [
        operatorTokenRoutes({ store, principals: new PrincipalCache(store) }),
      ]);
      cleanups.push(() => app.close());
      return { store, app, first };
    }

    const call = (
      app: FastifyInstance,
      token: string,
      method: 'GET' | 'POST' | 'DELETE',
      url: string,
      payload?: object,
    ) => app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });

    it('rotates: a new token works at once, the old one is refused once revoked, the last one cannot be', async () => {
      const { store, app, first } = await setUp();
      const created = await call(app, first, 'POST', '/v1/operator-tokens', { label: 'ci' });
      expect(created.statusCode).toBe(201);
      const second = created.json() as { id: string; token: string; label: string; revokedAt: null };
      expect(second).toMatchObject({
        label: 'ci',
        revokedAt: null,
        token: expect.stringMatching(/^waiaas_op_/),
      });

      const listed = await call(app, second.token, 'GET', '/v1/operator-tokens');
      expect(listed.statusCode).toBe(200);
      expect(listed.body).not.toContain(second.token);
      const firstId = (listed.json().items as { id: string; label: string }[]).find(
        (item) => item.label === 'test',
      )!.id;

      expect((await call(app, second.token, 'DELETE', `/v1/operator-tokens/${firstId}`)).statusCode).toBe(
        204,
      );
      const refused = await call(app, first, 'GET', '/v1/operator-tokens');
      expect([refused.statusCode, refused.json().code]).toEqual([401, 'UNAUTHORIZED']);
      // Revoking again changes nothing; an unknown id is 404.
      expect((await call(app, second.token, 'DELETE', `/v1/operator-tokens/${firstId}`)).statusCode).toBe(
        204,
      );
      expect((await call(app, second.token, 'DELETE', '/v1/operator-tokens/nope')).statusCode).toBe(404);

      const last = await call(app, second.token, 'DELETE', `/v1/operator-tokens/${second.id}`);
      expect([last.statusCode, last.json().code]).toEqual([409, 'CONFLICT']);
      expect((await call(app, second.token, 'GET', '/v1/operator-tokens')).statusCode).toBe(200);

      const audit = await store.db
        .selectFrom('audit_log')
        .select(['kind', 'actor_role', 'subject', 'details'])
        .where('kind', 'like', 'operator_token.%')
        .orderBy('sequence')
        .execute();
      expect(audit.map((entry) => [entry.kind, entry.actor_role, entry.subject])).toEqual([
        ['operator_token.created', 'operator', second.id],
        ['operator_token.revoked', 'operator', firstId],
      ]);
      expect(JSON.stringify(audit)).not.toContain(second.token);
    });

    it('`waiaas operator token create|list|revoke` does the same over HTTP', async () => {
      const { app, first } = await setUp();
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address() as { port: number };
      const url = `http://127.0.0.1:${address.port}`;
      const { createProgram } = await import('../../src/cli/program.ts');
      const printed: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed.push(String(chunk));
        return true;
      });
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const run = async (args: string[]): Promise<number> => {
        try {
          await createProgram().parseAsync(['operator', ...args], { from: 'user' });
          return 0;
        } catch (error) {
          return (error as { exitCode?: number }).exitCode === 0 ? 0 : 2;
        }
      };
      const cli = async (...args: string[]) => {
        printed.length = 0;
        const code = await run([...args, '--url', url, '--token', first, '--json']);
        return { code, output: printed.join('').trim() };
      };

      const created = await cli('token', 'create', '--label', 'cli');
      expect(created.code).toBe(0);
      const token = JSON.parse(created.output) as { id: string; token: string };
      const listed = await cli('token', 'list');
      expect(
        JSON.parse(listed.output)
          .map((item: { label: string }) => item.label)
          .sort(),
      ).toEqual(['cli', 'test']);
      expect(listed.output).not.toContain(token.token);
      expect((await cli('token', 'revoke', token.id)).code).toBe(0);
      expect((await call(app, token.token, 'GET', '/v1/operator-tokens')).statusCode).toBe(401);
      expect(await run(['token', 'rename', '--url', url, '--token', first])).toBe(2);
    });
  });
});

describe('WAIAAS_MASTER_TOKEN', () => {
  it('a changed value replaces the previous master token instead of adding to it; init tokens stay', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-master-'));
    const [old, next] = ['a'.repeat(40), 'b'.repeat(40)];
    const first = await initialise(loadConfig({ WAIAAS_DATA_DIR: dataDir, WAIAAS_MASTER_TOKEN: old }));
    await first.store.close();
    const again = await initialise(loadConfig({ WAIAAS_DATA_DIR: dataDir, WAIAAS_MASTER_TOKEN: old }));
    expect(await findActiveOperatorTokenByHash(again.store.db, hashToken(old))).toBeDefined();
    await again.store.close();

    const changed = await initialise(loadConfig({ WAIAAS_DATA_DIR: dataDir, WAIAAS_MASTER_TOKEN: next }));
    try {
      expect(await findActiveOperatorTokenByHash(changed.store.db, hashToken(next))).toBeDefined();
      expect(await findActiveOperatorTokenByHash(changed.store.db, hashToken(old))).toBeUndefined();
      const rows = await changed.store.db
        .selectFrom('operator_tokens')
        .select(['label', 'revoked_at'])
        .execute();
      expect(rows.filter((row) => row.revoked_at === null)).toHaveLength(1);
    } finally {
      await changed.store.close();
    }

    // Set back to the old value: a revoked token stays revoked, and the one in force stays.
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const back = await initialise(loadConfig({ WAIAAS_DATA_DIR: dataDir, WAIAAS_MASTER_TOKEN: old }));
    try {
      expect(await findActiveOperatorTokenByHash(back.store.db, hashToken(old))).toBeUndefined();
      expect(await findActiveOperatorTokenByHash(back.store.db, hashToken(next))).toBeDefined();
      expect(console.warn).toHaveBeenCalledWith(expect.stringContaining('was revoked'));
    } finally {
      await back.store.close();
      vi.restoreAllMocks();
    }
  });
});
