import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/daemon/logger.ts';
import {
  createDeliveryWorker,
  type DeliveryOptions,
  type DeliveryWorker,
  enqueueEvent,
  systemResolver,
  webhookAllowList,
  webhookSecretKey,
} from '../../src/daemon/notifier/index.ts';
import { PrincipalCache } from '../../src/daemon/principal-cache.ts';
import { webhookRoutes } from '../../src/daemon/routes/webhooks.ts';
import type { Store } from '../../src/store/index.ts';
import { buildRoutesApp, type SeededOwner, seedOwner } from '../audit/fixtures.ts';
import { bearer } from '../support/api.ts';
import { forEachEngine } from '../support/databases.ts';
import { startReceiver, waitFor } from './receiver.ts';

const daemonSecret = { value: 'daemon secret for delivery tests' };
/** The receivers listen on loopback: allowed as an operator would allow a local receiver. */
const loopbackAllowed = { allow: webhookAllowList(['127.0.0.1']), resolve: systemResolver };
/** Fast retries for tests; production defaults are seconds to an hour. */
const fast: DeliveryOptions = {
  pollMs: 20,
  backoffBaseMs: 60,
  backoffCapMs: 1000,
  timeoutMs: 2000,
  maxAttempts: 5,
};

interface Delivery {
  id: string;
  eventId: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
}

forEachEngine((engine, { makeStore, makeDatabase }) => {
  describe(`webhook delivery to a real receiver (${engine})`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** The webhook API with this replica's worker (or none), a real receiver subscribed through it. */
    async function setUp(options: { delivery: DeliveryOptions | false; store?: Store; logs?: string[] }) {
      const store = options.store ?? (await makeStore());
      const owner = await seedOwner(store);
      const receiver = await startReceiver();
      cleanups.push(() => receiver.close());
      const logger = createLogger(
        'trace',
        new Writable({
          write(chunk, _encoding, done) {
            options.logs?.push(chunk.toString());
            done();
          },
        }),
      );
      const app = await buildRoutesApp(store, [
        webhookRoutes(
          {
            store,
            principals: new PrincipalCache(store),
            logger,
            daemonSecret,
            config: { webhookAllowHosts: ['127.0.0.1'] },
          },
          { delivery: options.delivery },
        ),
      ]);
      cleanups.push(() => app.close());
      const created = await app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(owner.ownerToken),
        payload: { url: receiver.url },
      });
      expect(created.statusCode).toBe(201);
      const webhook = created.json() as { id: string; secret: string };
      receiver.secret = webhook.secret;
      return { store, owner, receiver, app, webhook, logger };
    }

    const emit = (store: Store, owner: SeededOwner, data: Record<string, unknown> = {}) =>
      store.writeTransaction((trx) =>
        enqueueEvent(trx, {
          type: 'transfer.confirmed',
          walletId: owner.walletId,
          data: { transferId: 'tr_1', ...data },
        }),
      );

    const deliveries = async (app: FastifyInstance, owner: SeededOwner, webhookId: string, query = '') =>
      (
        await app.inject({
          method: 'GET',
          url: `/v1/webhooks/${webhookId}/deliveries${query}`,
          headers: bearer(owner.ownerToken),
        })
      ).json().items as Delivery[];

    it('retries with backoff after 500s, signs every attempt, and marks it delivered only after a 2xx', async () => {
      const { store, owner, receiver, app, webhook } = await setUp({ delivery: fast });
      receiver.respond = (index) => (index < 2 ? 500 : 200);
      const { eventId } = await emit(store, owner, { amount: 1500n });

      await waitFor(async () => (await deliveries(app, owner, webhook.id))[0]?.status === 'delivered');
      expect(receiver.requests).toHaveLength(3);
      expect(receiver.requests.every((request) => request.signatureValid)).toBe(true);
      expect(new Set(receiver.requests.map((request) => request.eventId))).toEqual(new Set([eventId]));
      expect(new Set(receiver.requests.map((request) => request.body)).size).toBe(1);
      // Exponential backoff with equal jitter: at least half of 60 ms, then of 120 ms.
      const [first, second, third] = receiver.requests.map((request) => request.receivedAt);
      expect(second! - first!).toBeGreaterThanOrEqual(30);
      expect(third! - second!).toBeGreaterThanOrEqual(60);
      expect(receiver.processed).toEqual([
        {
          id: eventId,
          type: 'transfer.confirmed',
          createdAt: expect.any(String),
          walletId: owner.walletId,
          data: { transferId: 'tr_1', amount: '1500' },
        },
      ]);
      expect(await deliveries(app, owner, webhook.id)).toMatchObject([
        { eventId, status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null },
      ]);
    });

    it('sends an event again when its 2xx is lost, and the receiver processes it once by its id', async () => {
      const { store, owner, receiver, app, webhook } = await setUp({ delivery: { ...fast, timeoutMs: 300 } });
      receiver.hangMs = 1000;
      receiver.respond = (index) => (index === 0 ? 'hang' : 200);
      const { eventId } = await emit(store, owner);

      await waitFor(async () => (await deliveries(app, owner, webhook.id))[0]?.status === 'delivered');
      expect(receiver.requests.map((request) => request.eventId)).toEqual([eventId, eventId]);
      expect(receiver.processed.map((event) => event.id)).toEqual([eventId]);
      expect(await deliveries(app, owner, webhook.id)).toMatchObject([{ status: 'delivered', attempts: 2 }]);
    });

    it('dead-letters after the last attempt, shows it, sends it again on request, and never logs the secret', async () => {
      const logs: string[] = [];
      const { store, owner, receiver, app, webhook } = await setUp({
        delivery: { ...fast, maxAttempts: 3 },
        logs,
      });
      receiver.respond = () => 503;
      await emit(store, owner);

      const [failed] = await waitFor(async () => {
        const items = await deliveries(app, owner, webhook.id, '?status=failed');
        return items.length > 0 ? items : undefined;
      });
      expect(failed).toMatchObject({
        status: 'failed',
        attempts: 3,
        lastStatusCode: 503,
        lastError: 'HTTP 503',
      });
      expect(receiver.requests).toHaveLength(3);
      expect(receiver.processed).toEqual([]);
      expect(logs.join('')).toContain('dead-lettered');
      expect(logs.join('')).not.toContain(webhook.secret);
      expect(logs.join('')).not.toContain('receiver-side-key');

      receiver.respond = () => 204;
      const again = await app.inject({
        method: 'POST',
        url: `/v1/webhooks/${webhook.id}/deliveries/${failed!.id}/redeliver`,
        headers: bearer(owner.ownerToken),
      });
      expect(again.statusCode).toBe(202);
      await waitFor(async () => (await deliveries(app, owner, webhook.id))[0]?.status === 'delivered');
      expect(receiver.processed).toHaveLength(1);
    });

    it('is rejected by a receiver holding another secret: the signature binds the body to the secret', async () => {
      const { store, owner, receiver, app, webhook } = await setUp({ delivery: { ...fast, maxAttempts: 1 } });
      receiver.secret = 'waiaas_whsec_not-the-secret-the-daemon-holds-000000000';
      await emit(store, owner);
      await waitFor(async () => (await deliveries(app, owner, webhook.id))[0]?.status === 'failed');
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]!.signatureValid).toBe(false);
      expect(receiver.processed).toEqual([]);
    });

    it('sends nothing when the secret cannot be opened (another daemon secret), and dead-letters it', async () => {
      const { store, owner, receiver, app, webhook } = await setUp({ delivery: false });
      await emit(store, owner);
      const worker = createDeliveryWorker(
        {
          store,
          logger: createLogger('silent'),
          secretKey: webhookSecretKey('another daemon secret'),
          rules: loopbackAllowed,
        },
        { ...fast, maxAttempts: 2 },
      );
      worker.start();
      cleanups.push(() => worker.stop());
      await waitFor(async () => (await deliveries(app, owner, webhook.id))[0]?.status === 'failed');
      expect(await deliveries(app, owner, webhook.id)).toMatchObject([
        { status: 'failed', attempts: 2, lastError: 'internal error before sending' },
      ]);
      expect(receiver.requests).toEqual([]);
    });

    it('never sends one delivery from two replicas at once', async () => {
      const database = await makeDatabase();
      const [first, second] = [await database.open(), await database.open()];
      const { owner, receiver } = await setUp({ delivery: false, store: first });
      const events = await Promise.all(Array.from({ length: 20 }, (_, n) => emit(first, owner, { n })));
      const key = webhookSecretKey(daemonSecret.value);
      const logger = createLogger('silent');
      const workers: DeliveryWorker[] = [first, second].map((store) =>
        createDeliveryWorker(
          { store, logger, secretKey: key, rules: loopbackAllowed },
          { ...fast, batchSize: 3 },
        ),
      );
      for (const worker of workers) worker.start();
      cleanups.push(async () => {
        for (const worker of workers) await worker.stop();
      });

      const rows = await waitFor(async () => {
        const all = await first.db.selectFrom('webhook_outbox').select(['status', 'attempts']).execute();
        return all.length === 20 && all.every((row) => row.status === 'delivered') ? all : undefined;
      });
      // Every delivery claimed once (each claim counts an attempt), so sent once: 20 requests, no more.
      expect(rows.map((row) => row.attempts)).toEqual(Array(20).fill(1n));
      expect(receiver.requests.map((request) => request.eventId).sort()).toEqual(
        events.map((event) => event.eventId).sort(),
      );
    });
  });
});
