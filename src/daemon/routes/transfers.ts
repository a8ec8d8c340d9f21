import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ownerUnlock, requireRole } from '../auth.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { addressSchema, amountSchema, idParamsSchema } from '../schemas.ts';
import { answerStatus, transferView } from '../transfers/answer.ts';
import { ownerOf } from './access.ts';

const statusSchema = z.enum([
  'received',
  'rejected',
  'delayed',
  'pending_approval',
  'signing',
  'submitted',
  'confirmed',
  'failed',
  'cancelled',
  'expired',
]);

export const transferSchema = z
  .object({
    id: z.string(),
    walletId: z.string(),
    status: statusSchema,
    tier: z.enum(['instant', 'notify', 'delay', 'approval']),
    kind: z
      .enum(['x402', 'float_fill', 'float_sweep'])
      .optional()
      .describe(
        'absent for a transfer: an x402 payment, a fill of the agent float, or its sweep to the vault',
      ),
    // Plain strings on the way out: these values were checked on the way in, and re-checking every
    // answer (a base58 decode per address) costs the transfer path for nothing.
    asset: z.string().describe('"SOL" or the base58 mint'),
    amount: z.string().describe('base units, as a decimal string'),
    to: z.string().describe('base58 recipient address'),
    memo: z.string().optional(),
    signature: z.string().optional().describe('the transaction that moved (or tried to move) the funds'),
    proposalSignature: z.string().optional().describe('approval tier: the agent’s proposal transaction'),
    transactionIndex: z.string().optional().describe('approval tier: the Squads transaction index'),
    executeAfter: z.string().optional().describe('delay tier: when it will be signed'),
    expiresAt: z.string().optional().describe('approval tier: when it expires undecided'),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Transfer' });

const printable = /^[\x21-\x7e]+$/;
const controlCharacters = /[\p{Cc}]/u;

export const transferBodySchema = z.strictObject({
  to: addressSchema.describe(
    'the recipient wallet address (for tokens, its associated token account receives)',
  ),
  amount: amountSchema,
  mint: addressSchema.optional().describe('the SPL token mint; omit for SOL'),
  memo: z
    .string()
    .min(1)
    .max(256)
    .refine((memo) => !controlCharacters.test(memo), 'no control characters')
    .optional(),
  idempotencyKey: z
    .string()
    .min(1)
    .max(128)
    .regex(printable, 'printable ASCII without spaces')
    .optional()
    .describe('retries with the same key and body get the same transfer; another body gets 409'),
});

const pageQuerySchema = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const listSchema = z.object({ items: z.array(transferSchema), nextCursor: z.string().nullable() });

const errors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
  503: problemSchema,
};

/** The transfer pipeline over HTTP; the app starts the runtime's transfer workers and stops them. */
export const transferRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    const { transfers } = runtime.services;
    app.addHook('onReady', () => transfers.start());
    app.addHook('onClose', () => transfers.stop());
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const security = [{ bearer: [] }];

    typed.post(
      '/v1/wallets/:id/transfers',
      {
        onRequest: requireRole(runtime.services.principals, 'agent', 'owner'),
        schema: {
          summary: 'Move funds out of the wallet under its policy',
          description:
            '200 once confirmed on chain (instant, notify); 202 while it waits (delayed, pending_approval) ' +
            'or is still on its way; 403 with `layer` and `code` when a policy layer refuses.',
          tags: ['transfers'],
          security,
          params: idParamsSchema,
          body: transferBodySchema,
          response: { 200: transferSchema, 202: transferSchema, ...errors },
        },
      },
      async (request, reply) => {
        const record = await transfers.submit(request.principal, request.params.id, request.body);
        return reply.status(answerStatus(record)).send(transferView(record));
      },
    );

    typed.get(
      '/v1/transfers/:id',
      {
        onRequest: requireRole(runtime.services.principals, 'agent', 'owner'),
        schema: {
          summary: 'One transfer',
          tags: ['transfers'],
          security,
          params: idParamsSchema,
          response: { 200: transferSchema, ...errors },
        },
      },
      async (request) => transferView(await transfers.get(request.principal, request.params.id)),
    );

    typed.get(
      '/v1/wallets/:id/transfers',
      {
        onRequest: requireRole(runtime.services.principals, 'agent', 'owner'),
        schema: {
          summary: "The wallet's transfers, newest first",
          tags: ['transfers'],
          security,
          params: idParamsSchema,
          querystring: pageQuerySchema,
          response: { 200: listSchema, ...errors },
        },
      },
      async (request) => {
        const found = await transfers.list(request.principal, request.params.id, request.query);
        return { items: found.items.map(transferView), nextCursor: found.nextCursor };
      },
    );

    typed.get(
      '/v1/approvals',
      {
        onRequest: requireRole(runtime.services.principals, 'owner'),
        schema: {
          summary: "Transfers waiting for the owner's approval, oldest first",
          tags: ['transfers'],
          security,
          querystring: pageQuerySchema,
          response: { 200: listSchema, ...errors },
        },
      },
      async (request) => {
        const found = await transfers.approvals(ownerOf(request.principal), request.query);
        return { items: found.items.map(transferView), nextCursor: found.nextCursor };
      },
    );

    typed.post(
      '/v1/transfers/:id/approve',
      {
        onRequest: requireRole(runtime.services.principals, 'owner'),
        schema: {
          summary: 'Approve a pending transfer: the owner approves and executes it on chain',
          description: 'Owner-key act: send the second factor in X-Owner-Unlock.',
          tags: ['transfers'],
          security,
          params: idParamsSchema,
          response: { 200: transferSchema, 202: transferSchema, ...errors },
        },
      },
      async (request, reply) => {
        const record = await transfers.approve(
          ownerOf(request.principal),
          request.params.id,
          ownerUnlock(request),
        );
        return reply.status(answerStatus(record)).send(transferView(record));
      },
    );

    typed.post(
      '/v1/transfers/:id/reject',
      {
        onRequest: requireRole(runtime.services.principals, 'owner'),
        schema: {
          summary: 'Reject a pending transfer',
          description:
            'With X-Owner-Unlock the owner also votes the proposal down on chain (rejectionSignature); ' +
            'without it the transfer is rejected here and its proposal can never execute through WAIaaS.',
          tags: ['transfers'],
          security,
          params: idParamsSchema,
          response: {
            200: transferSchema.extend({ rejectionSignature: z.string().optional() }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { record, signature } = await transfers.reject(
          ownerOf(request.principal),
          request.params.id,
          ownerUnlock(request),
        );
        return { ...transferView(record), ...(signature && { rejectionSignature: signature }) };
      },
    );

    typed.post(
      '/v1/transfers/:id/cancel',
      {
        onRequest: requireRole(runtime.services.principals, 'owner'),
        schema: {
          summary: 'Cancel a delayed transfer before it is due',
          tags: ['transfers'],
          security,
          params: idParamsSchema,
          response: { 200: transferSchema, ...errors },
        },
      },
      async (request) => transferView(await transfers.cancel(ownerOf(request.principal), request.params.id)),
    );
  };
