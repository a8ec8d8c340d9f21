import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DeliveryRow } from '../../store/outbox.ts';
import type { Store } from '../../store/store.ts';
import type { Webhook } from '../../store/webhooks.ts';
import { requireRole } from '../auth.ts';
import type { Logger } from '../logger.ts';
import {
  createDeliveryWorker,
  type DeliveryOptions,
  type DestinationRules,
  type ResolveHost,
  systemResolver,
  webhookAllowList,
  webhookEventTypes,
  webhookSecretKey,
} from '../notifier/index.ts';
import type { PrincipalCache } from '../principal-cache.ts';
import { problemSchema } from '../problem.ts';
import { idParamsSchema } from '../schemas.ts';
import { WebhookService } from '../webhooks/service.ts';
import { ownerOf } from './access.ts';

export { MAX_WEBHOOKS_PER_OWNER } from '../webhooks/service.ts';

const webhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(webhookEventTypes)).nullable().describe('null: every event'),
    createdAt: z.string(),
  })
  .meta({ id: 'Webhook' });

const createWebhookBody = z.strictObject({
  url: z.string().min(1).max(2048),
  events: z
    .array(z.enum(webhookEventTypes))
    .min(1)
    .max(webhookEventTypes.length)
    .refine((events) => new Set(events).size === events.length, 'each event once')
    .optional()
    .describe('the events to receive; every event when absent'),
  secret: z
    .string()
    .min(24)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional()
    .describe('the HMAC key; generated (and shown once) when absent'),
});

const deliverySchema = z
  .object({
    id: z.string(),
    eventId: z.string(),
    type: z.string(),
    walletId: z.string().nullable(),
    status: z.enum(['pending', 'delivering', 'delivered', 'failed', 'cancelled']),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

const deliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^[0-9]{1,16}\.[A-Za-z0-9_-]{1,64}$/, 'expected the nextCursor of a previous page')
    .optional(),
  status: z.enum(['pending', 'delivering', 'delivered', 'failed', 'cancelled']).optional(),
});

const deliveryParams = z.strictObject({
  id: idParamsSchema.shape.id,
  deliveryId: idParamsSchema.shape.id,
});

const iso = (ms: bigint | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

const presentWebhook = (webhook: Webhook) => ({
  id: webhook.id,
  url: webhook.url,
  events: webhook.events as (typeof webhookEventTypes)[number][] | null,
  createdAt: new Date(Number(webhook.createdAt)).toISOString(),
});

const presentDelivery = (row: DeliveryRow) => ({
  id: row.id,
  eventId: row.event_id,
  type: row.type,
  walletId: row.wallet_id,
  status: row.status,
  attempts: Number(row.attempts),
  lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
  lastError: row.last_error,
  nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
  createdAt: new Date(Number(row.created_at)).toISOString(),
  deliveredAt: iso(row.delivered_at),
});

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };

export interface WebhookRoutesDeps {
  store: Store;
  /** The replica's principal cache (`runtime.services.principals`). */
  principals: Pick<PrincipalCache, 'resolve'>;
  logger: Logger;
  /** The daemon secret; webhook secrets are sealed under a key derived from it. */
  daemonSecret: { readonly value: string };
  /** `webhookAllowHosts`: hosts webhooks may reach although private or local. */
  config?: { readonly webhookAllowHosts: readonly string[] };
}

export interface WebhookRoutesOptions {
  /** The delivery worker, started when the app is ready and stopped when it closes; false: none. */
  delivery?: DeliveryOptions | false;
  /** Resolves webhook hosts, at registration and delivery (default: the system resolver). */
  resolve?: ResolveHost;
}

/**
 * POST · GET /v1/webhooks, DELETE /v1/webhooks/:id, GET /v1/webhooks/:id/deliveries,
 * POST /v1/webhooks/:id/deliveries/:deliveryId/redeliver (owner only), and this replica's delivery
 * worker. The signing secret is shown once, in the answer to POST when it was generated; it is stored
 * sealed and never returned again, logged or audited.
 */
export const webhookRoutes =
  (deps: WebhookRoutesDeps, options: WebhookRoutesOptions = {}): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const { store } = deps;
    const secretKey = webhookSecretKey(deps.daemonSecret.value);
    const rules: DestinationRules = {
      allow: webhookAllowList(deps.config?.webhookAllowHosts ?? []),
      resolve: options.resolve ?? systemResolver,
    };
    const webhooks = new WebhookService({ store, secretKey, rules });
    const onlyOwner = requireRole(deps.principals, 'owner');

    if (options.delivery !== false) {
      const worker = createDeliveryWorker(
        { store, logger: deps.logger, secretKey, rules },
        options.delivery ?? {},
      );
      app.addHook('onReady', async () => worker.start());
      app.addHook('onClose', async () => worker.stop());
    }

    typed.post(
      '/v1/webhooks',
      {
        onRequest: onlyOwner,
        schema: {
          summary: 'Subscribe a URL to events of your wallets; a generated secret is shown once',
          description:
            'Deliveries are POSTs signed with X-WAIaaS-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>, ' +
            'timestamp from X-WAIaaS-Timestamp; the event id (X-WAIaaS-Event-Id, also in the body) is the same for every ' +
            'retry: process each id once.',
          tags: ['webhooks'],
          security: [{ bearer: [] }],
          body: createWebhookBody,
          response: {
            201: webhookSchema.extend({
              secret: z.string().optional().describe('only when generated; shown this once'),
            }),
            ...errors,
            409: problemSchema,
            422: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { webhook, generatedSecret } = await webhooks.create(ownerOf(request.principal), request.body);
        return reply
          .status(201)
          .send({ ...presentWebhook(webhook), ...(generatedSecret ? { secret: generatedSecret } : {}) });
      },
    );

    typed.get(
      '/v1/webhooks',
      {
        onRequest: onlyOwner,
        schema: {
          summary: 'Your webhooks (never their secrets)',
          tags: ['webhooks'],
          security: [{ bearer: [] }],
          response: {
            200: z.object({ items: z.array(webhookSchema), nextCursor: z.string().nullable() }),
            ...errors,
          },
        },
      },
      async (request) => ({
        items: (await webhooks.list(ownerOf(request.principal))).map(presentWebhook),
        nextCursor: null,
      }),
    );

    typed.delete(
      '/v1/webhooks/:id',
      {
        onRequest: onlyOwner,
        schema: {
          summary: 'Delete a webhook; deliveries not yet sent are cancelled',
          tags: ['webhooks'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          response: { 204: z.null(), ...errors },
        },
      },
      async (request, reply) => {
        await webhooks.delete(ownerOf(request.principal), request.params.id);
        return reply.status(204).send(null);
      },
    );

    typed.get(
      '/v1/webhooks/:id/deliveries',
      {
        onRequest: onlyOwner,
        schema: {
          summary: "A webhook's deliveries, newest first, including dead-lettered ones (status failed)",
          tags: ['webhooks'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          querystring: deliveriesQuery,
          response: {
            200: z.object({ items: z.array(deliverySchema), nextCursor: z.string().nullable() }),
            ...errors,
          },
        },
      },
      async (request) => {
        const page = await webhooks.deliveries(ownerOf(request.principal), request.params.id, request.query);
        return { items: page.items.map(presentDelivery), nextCursor: page.nextCursor };
      },
    );

    typed.post(
      '/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
      {
        onRequest: onlyOwner,
        schema: {
          summary: 'Send a dead-lettered delivery again, from its first attempt',
          tags: ['webhooks'],
          security: [{ bearer: [] }],
          params: deliveryParams,
          response: {
            202: z.object({ id: z.string(), status: z.literal('pending') }),
            ...errors,
            409: problemSchema,
          },
        },
      },
      async (request, reply) => {
        await webhooks.redeliver(ownerOf(request.principal), request.params.id, request.params.deliveryId);
        return reply.status(202).send({ id: request.params.deliveryId, status: 'pending' as const });
      },
    );
  };
