import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/daemon/logger.ts';
import { enqueueEvent } from '../../src/daemon/notifier/index.ts';
import { PrincipalCache } from '../../src/daemon/principal-cache.ts';
import { webhookRoutes } from '../../src/daemon/routes/webhooks.ts';
import type { Store } from '../../src/store/index.ts';
import { buildRoutesApp, type SeededOwner, seedOwner } from '../audit/fixtures.ts';
import { bearer } from '../support/api.ts';
import { forEachEngine } from '../support/databases.ts';

const daemonSecret = { value: 'daemon secret for webhook tests' };

forEachEngine((engine, { makeStore }) => {
  describe(`webhooks API (${engine})`, () => {
    let store: Store;
    let app: FastifyInstance;
    let alice: SeededOwner;
    let bob: SeededOwner;

    const create = (token: string, payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(token), payload });
    /** Everything the database holds about webhooks, outbox and audit, as text. */
    const databaseText = async (): Promise<string> => {
      const dump = await Promise.all(
        (['webhooks', 'webhook_outbox', 'audit_log'] as const).map((table) =>
          store.db.selectFrom(table).selectAll().execute(),
        ),
      );
      return JSON.stringify(dump, (_key, value) => (typeof value === 'bigint' ? String(value) : value));
    };

    beforeAll(async () => {
      store = await makeStore();
      alice = await seedOwner(store, 'Alice');
      bob = await seedOwner(store, 'Bob');
      app = await buildRoutesApp(store, [
        webhookRoutes(
          {
            store,
            principals: new PrincipalCache(store),
            logger: createLogger('silent'),
            daemonSecret,
            // Names with no DNS here, and loopback: allowed by the operator, so no lookup is made.
            config: { webhookAllowHosts: ['hooks.example.com', 'bob.example.com', '127.0.0.1'] },
          },
          { delivery: false },
        ),
      ]);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('shows a generated secret once, then never again, and keeps it only sealed', async () => {
      const response = await create(alice.ownerToken, {
        url: 'https://hooks.example.com/waiaas',
        events: ['transfer.confirmed'],
      });
      expect(response.statusCode).toBe(201);
      const created = response.json();
      expect(created).toMatchObject({
        id: expect.stringMatching(/^whk_/),
        url: 'https://hooks.example.com/waiaas',
        events: ['transfer.confirmed'],
        secret: expect.stringMatching(/^waiaas_whsec_[A-Za-z0-9_-]{43}$/),
      });

      const list = await app.inject({
        method: 'GET',
        url: '/v1/webhooks',
        headers: bearer(alice.ownerToken),
      });
      const { secret: _shownOnce, ...listed } = created;
      expect(list.json().items).toEqual([listed]);
      expect(list.body).not.toContain(created.secret);
      expect(await databaseText()).not.toContain(created.secret);
      expect(await databaseText()).toContain('webhook.created');
    });

    it('never echoes a secret the owner supplied', async () => {
      const secret = 'my-own-webhook-secret-0123456789';
      const response = await create(alice.ownerToken, { url: 'http://127.0.0.1:9/hook', secret });
      expect(response.statusCode).toBe(201);
      expect(response.body).not.toContain(secret);
      expect(response.json().events).toBeNull();
      expect(await databaseText()).not.toContain(secret);
    });

    it.each([
      ['ftp://example.com/hook', 'only http and https'],
      ['javascript:alert(1)', 'only http and https'],
      ['file:///etc/passwd', 'only http and https'],
      ['https://user:pass@example.com/hook', 'credentials'],
      ['https://example.com/hook#frag', 'fragment'],
      ['/relative/hook', 'not an absolute URL'],
    ])('refuses the URL %s', async (url, reason) => {
      const response = await create(alice.ownerToken, { url });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        detail: expect.stringContaining(reason),
      });
    });

    it('refuses unknown events, short secrets and unknown fields', async () => {
      for (const payload of [
        { url: 'https://example.com', events: ['transfer.stolen'] },
        { url: 'https://example.com', events: [] },
        { url: 'https://example.com', secret: 'short' },
        { url: 'https://example.com', extra: true },
      ]) {
        expect((await create(alice.ownerToken, payload)).statusCode).toBe(400);
      }
    });

    it("is for owners only, and an owner cannot see or delete another owner's webhook", async () => {
      expect((await create(alice.sessionToken, { url: 'https://example.com' })).statusCode).toBe(403);
      const { id } = (await create(bob.ownerToken, { url: 'https://bob.example.com' })).json();
      const aliceList = await app.inject({
        method: 'GET',
        url: '/v1/webhooks',
        headers: bearer(alice.ownerToken),
      });
      expect(aliceList.body).not.toContain(id);
      for (const request of [
        { method: 'DELETE' as const, url: `/v1/webhooks/${id}` },
        { method: 'GET' as const, url: `/v1/webhooks/${id}/deliveries` },
      ]) {
        expect((await app.inject({ ...request, headers: bearer(alice.ownerToken) })).statusCode).toBe(404);
      }
    });

    it('deletes a webhook and cancels what it had not yet been sent', async () => {
      const { id } = (await create(bob.ownerToken, { url: 'https://bob.example.com/2' })).json();
      await store.writeTransaction((trx) =>
        enqueueEvent(trx, { type: 'wallet.frozen', walletId: bob.walletId, data: { reason: 'test' } }),
      );
      const deleted = await app.inject({
        method: 'DELETE',
        url: `/v1/webhooks/${id}`,
        headers: bearer(bob.ownerToken),
      });
      expect(deleted.statusCode).toBe(204);
      const list = await app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(bob.ownerToken) });
      expect(list.body).not.toContain(id);
      const { rows } = await sql<{
        status: string;
      }>`select status from webhook_outbox where webhook_id = ${id}`.execute(store.db);
      expect(rows).toEqual([{ status: 'cancelled' }]);
      expect(
        (await app.inject({ method: 'DELETE', url: `/v1/webhooks/${id}`, headers: bearer(bob.ownerToken) }))
          .statusCode,
      ).toBe(404);
    });
  });
});
