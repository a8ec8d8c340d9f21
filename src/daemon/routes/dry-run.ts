import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TIERS } from '../../core/policy.ts';
import { requireRole } from '../auth.ts';
import { LAYERS, type LayerName } from '../dry-run/types.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { idParamsSchema } from '../schemas.ts';
import { walletFor } from './access.ts';
import { transferBodySchema } from './transfers.ts';

const baseUnits = z.string().regex(/^[0-9]+$/);
const layerSchema = z.enum(['server', 'enclave', 'chain']);
const tierSchema = z.enum(TIERS as unknown as ['instant', 'notify', 'delay', 'approval']);

const layerVerdictSchema = z
  .object({
    checked: z.boolean().describe('false: not asked (see `layers`) or could not be (see `code`)'),
    allowed: z.boolean().nullable(),
    tier: tierSchema.optional(),
    code: z.string().optional().describe('the refusal, or why the layer could not be checked'),
    title: z.string().optional(),
    action: z.string().optional(),
    details: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    basis: z
      .record(z.string(), z.union([z.string(), z.number(), z.null()]))
      .optional()
      .describe('the counters or chain figures the verdict was reached with'),
    asOf: z.string().optional().describe('when those figures were read (cached up to about a second)'),
    notes: z.array(z.string()),
  })
  .meta({ id: 'DryRunLayerVerdict' });

export const dryRunResultSchema = z
  .object({
    walletId: z.string(),
    asset: z.string(),
    amount: baseUnits,
    to: z.string(),
    allowed: z.boolean().describe('whether every checked layer would pass it now'),
    tier: tierSchema.optional(),
    delaySeconds: z.number().int().optional(),
    code: z.string().optional().describe('the first refusal, in the order a transfer meets the layers'),
    layer: layerSchema.optional(),
    title: z.string().optional(),
    action: z.string().optional(),
    layers: z.object({ server: layerVerdictSchema, enclave: layerVerdictSchema, chain: layerVerdictSchema }),
    budget: z.object({
      asset: z.string(),
      perTransaction: baseUnits.nullable(),
      daily: baseUnits.nullable(),
      windowSeconds: z.number().int(),
      remaining: z.object({
        server: baseUnits.nullable(),
        enclave: baseUnits.nullable(),
        chain: baseUnits.nullable(),
        effective: baseUnits.nullable().describe('the least of the known ones'),
      }),
      balance: baseUnits.nullable(),
      tiers: z.array(
        z.object({
          tier: tierSchema,
          from: baseUnits,
          to: baseUnits.nullable(),
          upTo: baseUnits
            .nullable()
            .describe('the largest amount of this tier every checked layer passes now'),
        }),
      ),
      delaySeconds: z.number().int().nullable(),
      rate: z.object({
        maxPerHour: z.number().int(),
        windowSeconds: z.number().int(),
        used: z.number().int(),
        remaining: z.number().int(),
      }),
      hours: z.object({
        utc: z.tuple([z.number().int(), z.number().int()]),
        days: z.array(z.number().int()),
        allowedNow: z.boolean(),
      }),
    }),
    evaluatedAt: z.string(),
  })
  .meta({ id: 'DryRunResult' });

const dryRunQuery = z.strictObject({
  layers: z
    .string()
    .max(64)
    .regex(
      /^(server|enclave|chain)(,(server|enclave|chain))*$/,
      'a comma-separated list of server, enclave, chain',
    )
    .optional()
    .describe('the layers to ask (default all three); the server layer is always checked'),
});

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };

export const dryRunRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const { dryRuns } = runtime.services;
    typed.post(
      '/v1/wallets/:id/transfers/dry-run',
      {
        onRequest: requireRole(runtime.services.principals, 'agent', 'owner'),
        // The answer is built by typed code of ours (DryRunResult), not passed through from elsewhere:
        // encoding it through its zod schema again would cost a tenth of the request. The schema
        // still documents it, and test/api/dry-run.test.ts checks answers against it.
        serializerCompiler: () => (data) => JSON.stringify(data),
        schema: {
          summary: 'What a transfer would meet now, at each layer; nothing is reserved, signed or sent',
          description:
            'The same body as POST /v1/wallets/:id/transfers. Answers the decision (tier, or the first refusal with its layer and code), ' +
            "each layer's verdict (the enclave's is a prediction from its own counters), and the budget left per tier and window. " +
            'Enclave and chain figures may be up to about a second old.',
          tags: ['transfers'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          querystring: dryRunQuery,
          body: transferBodySchema,
          response: { 200: dryRunResultSchema, ...errors },
        },
      },
      async (request) => {
        const wallet = await walletFor(runtime.store, request.principal, request.params.id);
        const layers = new Set<LayerName>(
          request.query.layers === undefined ? LAYERS : (request.query.layers.split(',') as LayerName[]),
        );
        return dryRuns.run(wallet, request.body, layers);
      },
    );
  };
