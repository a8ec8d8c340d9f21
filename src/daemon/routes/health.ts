import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ChainStatus } from '../../solana/chain-status.ts';

const componentSchema = z.object({
  ok: z.boolean(),
  latencyMs: z.number(),
  error: z.string().optional(),
});

export const healthSchema = z
  .object({
    status: z
      .enum(['ok', 'degraded', 'down'])
      .describe(
        'ok: every part answers; degraded: the daemon serves but a part is missing or failing; down: the database is unreachable',
      ),
    version: z.string(),
    network: z.string(),
    uptimeSeconds: z.number(),
    db: componentSchema.extend({ engine: z.enum(['sqlite', 'postgres']) }),
    chain: componentSchema.extend({
      rpcUrl: z.string(),
      slot: z.string().optional(),
      version: z.string().optional(),
    }),
    squads: z.object({ status: z.enum(['loaded', 'missing', 'unknown']), fix: z.string().optional() }),
  })
  .meta({ id: 'Health' });

export type Health = z.infer<typeof healthSchema>;

export interface HealthDependencies {
  version: string;
  network: string;
  startedAt: number;
  readDatabase(): Promise<{ ok: boolean; engine: 'sqlite' | 'postgres'; latencyMs: number; error?: string }>;
  readChain(): Promise<ChainStatus>;
}

export const healthRoutes =
  (deps: HealthDependencies): FastifyPluginAsync =>
  async (app) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/v1/health',
      {
        schema: {
          summary: 'Status of the database, the chain and the Squads program',
          tags: ['system'],
          response: { 200: healthSchema, 503: healthSchema },
        },
      },
      async (_request, reply) => {
        const [db, chain] = await Promise.all([deps.readDatabase(), deps.readChain()]);
        const { squads, ...chainComponent } = chain;
        const status = !db.ok ? 'down' : chain.ok && squads.status === 'loaded' ? 'ok' : 'degraded';
        const health: Health = {
          status,
          version: deps.version,
          network: deps.network,
          uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
          db,
          chain: chainComponent,
          squads,
        };
        return reply.status(db.ok ? 200 : 503).send(health);
      },
    );
  };
