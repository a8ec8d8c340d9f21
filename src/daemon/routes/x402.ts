/**
 * x402 over HTTP (DESIGN.md §11): an agent or owner pays for a URL; the owner sweeps the agent float
 * back to the vault. Policy refusals are audited as `transfer.refused` (kind x402), as the transfer
 * route's are, so the monitor's refusal rules see them too.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AuditActor, appendAudit } from '../audit/index.ts';
import { requireRole } from '../auth.ts';
import { isPolicyRefusal } from '../monitor/transfer-watch.ts';
import { sweepFloat } from '../owner-acts/sweep-float.ts';
import { classifyError, problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { addressSchema, amountSchema, idParamsSchema } from '../schemas.ts';
import { payForUrl } from '../x402/pay.ts';
import { ownerOf } from './access.ts';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** Set by the daemon itself (the connection, the body's length, the payment), never by the caller. */
const RESERVED_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'payment-signature',
  'x-payment',
]);

const payBodySchema = z.strictObject({
  url: z.string().min(1).max(2048).describe('the http(s) URL of the paid resource'),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  headers: z
    .record(
      z
        .string()
        .regex(HEADER_NAME, 'a header name')
        .refine(
          (name) => !RESERVED_HEADERS.has(name.toLowerCase()) && !/^proxy-/i.test(name),
          'a header the daemon sets itself',
        ),
      z
        .string()
        .max(8192)
        .regex(/^[^\r\n\0]*$/, 'no line breaks'),
    )
    .refine((headers) => Object.keys(headers).length <= 32, 'at most 32 headers')
    .optional(),
  body: z
    .string()
    .max(256 * 1024)
    .optional()
    .describe('the request body, sent as it is'),
  maxAmount: amountSchema.describe('the most this request may pay, in base units of the asset asked'),
});

const paymentSchema = z
  .object({
    transferId: z.string(),
    path: z
      .enum(['vault', 'float'])
      .describe('vault: a spendingLimitUse under the on-chain limit; float: from the agent float'),
    asset: z.string().describe('the mint'),
    amount: z.string(),
    payTo: z.string(),
    network: z.string().describe('CAIP-2'),
    transaction: z.string().describe('the settled transaction'),
    payer: z.string().optional(),
    fill: z
      .object({ transferId: z.string(), amount: z.string() })
      .optional()
      .describe('the float fill it needed'),
    declined: z
      .object({ transferId: z.string(), reason: z.string() })
      .optional()
      .describe('the vault payment the facilitator would not take, before the float paid'),
  })
  .meta({ id: 'X402Payment' });

const payResultSchema = z
  .object({
    paid: z.boolean().describe('false: the resource did not ask for payment, and its answer is returned'),
    status: z.number().int().describe('the resource’s HTTP status'),
    contentType: z.string().optional(),
    body: z.string(),
    bodyEncoding: z.enum(['utf8', 'base64']),
    payment: paymentSchema.optional(),
  })
  .meta({ id: 'X402PayResult' });

const sweepResultSchema = z
  .object({
    walletId: z.string(),
    swept: z.array(
      z.object({
        mint: addressSchema,
        amount: z.string(),
        transferId: z.string(),
        status: z.string(),
        signature: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'FloatSweepResult' });

const errors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
  502: problemSchema,
  503: problemSchema,
};

const PAY_ROUTE = '/v1/wallets/:id/x402/pay';

const actorOf = (request: FastifyRequest): AuditActor => {
  const principal = request.principal;
  if (principal?.role === 'agent') return { role: 'agent', id: principal.session.id };
  if (principal?.role === 'owner') return { role: 'owner', id: principal.owner.id };
  return { role: principal?.role ?? 'anonymous' };
};

export const x402Routes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const security = [{ bearer: [] }];

    app.addHook('onError', async (request, _reply, error) => {
      if (request.routeOptions.url !== PAY_ROUTE) return;
      const refusal = classifyError(error);
      const walletId = (request.params as { id?: unknown } | undefined)?.id;
      if (!isPolicyRefusal(refusal) || typeof walletId !== 'string') return;
      const url = (request.body as { url?: unknown } | undefined)?.url;
      try {
        await runtime.store.writeTransaction((trx) =>
          appendAudit(trx, {
            kind: 'transfer.refused',
            actor: actorOf(request),
            walletId,
            details: {
              kind: 'x402',
              code: refusal.code,
              layer: refusal.layer ?? null,
              asset: typeof refusal.details['asset'] === 'string' ? refusal.details['asset'] : null,
              amount: typeof refusal.details['amount'] === 'string' ? refusal.details['amount'] : null,
              origin: typeof url === 'string' && URL.canParse(url) ? new URL(url).origin : null,
            },
          }),
        );
      } catch (appendError) {
        request.log.error({ err: appendError }, 'could not append transfer.refused to the audit log');
      }
    });

    // A payment spends the daily budget like a transfer: the monitor checks the wallet's velocity.
    app.addHook('onResponse', async (request, reply) => {
      if (request.routeOptions.url !== PAY_ROUTE || reply.statusCode !== 200) return;
      const walletId = (request.params as { id?: unknown } | undefined)?.id;
      if (typeof walletId === 'string') runtime.services.monitor.touch(walletId);
    });

    typed.post(
      PAY_ROUTE,
      {
        onRequest: requireRole(runtime.services.principals, 'agent', 'owner'),
        schema: {
          summary: 'Pay for a URL with x402, from the vault or the agent float',
          description:
            'The daemon requests the URL; on 402 it pays the one offer the policy allows (scheme exact, the ' +
            "wallet's network, an asset with x402 limits, price ≤ x402.perPayment and maxAmount, payee allowed) " +
            'and requests it again with the payment. From the vault by default (a spendingLimitUse the ' +
            'facilitator verifies by simulation); from the float when the facilitator takes only plain ' +
            'transfers. Counted against the same daily budget as transfers. 403 with `layer` and `code` ' +
            'when a policy layer refuses; URLs that are not public are refused unless the operator allows ' +
            'their origin.',
          tags: ['x402'],
          security,
          params: idParamsSchema,
          body: payBodySchema,
          response: { 200: payResultSchema, ...errors },
        },
      },
      async (request) =>
        payForUrl(runtime, request.principal, request.params.id, {
          url: request.body.url,
          method: request.body.method,
          headers: request.body.headers ?? {},
          body: request.body.body,
          maxAmount: BigInt(request.body.maxAmount),
        }),
    );

    typed.post(
      '/v1/wallets/:id/float/sweep',
      {
        onRequest: requireRole(runtime.services.principals, 'owner'),
        schema: {
          summary: 'Sweep the agent float back into the vault',
          description:
            'Every token the Agent Key holds in its float accounts goes back to the vault, frozen or not: ' +
            'the enclave signs a transfer to the vault under any policy, and nothing else while frozen.',
          tags: ['x402'],
          security,
          params: idParamsSchema,
          response: { 200: sweepResultSchema, ...errors },
        },
      },
      async (request) => sweepFloat(runtime, ownerOf(request.principal), request.params.id),
    );
  };
