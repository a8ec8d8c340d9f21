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
    enclave: z
      .object({
        state: z.enum(['starting', 'up', 'down', 'stopped']),
        restarts: z.number(),
        since: z.string(),
        isolation: z
          .enum(['process', 'nitro'])
          .describe(
            'process: a separate OS process on this machine (development attestation); nitro: an AWS Nitro Enclave (hardware isolation, NSM attestation)',
          ),
        seedProtection: z
          .enum(['enclave-local-key', 'kms-attested', 'kms'])
          .describe(
            "what opens the sealed agent seeds: the enclave's own key in its state directory, KMS only for the attested enclave image, or KMS for whoever holds the credentials",
          ),
      })
      .optional(),
    feePayer: z
      .object({
        address: z.string(),
        balanceLamports: z.string().optional(),
        low: z.boolean().describe('true when the balance is too low to pay fees and rent for long'),
      })
      .optional(),
    ownerKeys: z
      .object({
        owners: z.number(),
        local: z.number().describe('owners whose key is in a local keystore (second factor: passphrase)'),
        awsKmsWithMfa: z.number(),
        awsKmsWithoutMfa: z
          .number()
          .describe('owners whose key is in AWS KMS with no second factor: unprotected'),
        daemonSecret: z.enum(['environment', 'file']),
      })
      .optional(),
  })
  .meta({ id: 'Health' });

export type Health = z.infer<typeof healthSchema>;

export interface HealthDependencies {
  version: string;
  network: string;
  startedAt: number;
  readDatabase(): Promise<{ ok: boolean; engine: 'sqlite' | 'postgres'; latencyMs: number; error?: string }>;
  readChain(): Promise<ChainStatus>;
  /** The daemon's own parts, when it runs a runtime (enclave, fee payer, owner keys). */
  readRuntime?(): Promise<Pick<Health, 'enclave' | 'feePayer' | 'ownerKeys'>>;
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
        const [db, chain, runtime] = await Promise.all([
          deps.readDatabase(),
          deps.readChain(),
          deps.readRuntime?.() ?? Promise.resolve<Pick<Health, 'enclave' | 'feePayer' | 'ownerKeys'>>({}),
        ]);
        const { squads, ...chainComponent } = chain;
        const partsUp =
          chain.ok &&
          squads.status === 'loaded' &&
          (runtime.enclave === undefined || runtime.enclave.state === 'up') &&
          runtime.feePayer?.low !== true;
        const status = !db.ok ? 'down' : partsUp ? 'ok' : 'degraded';
        const health: Health = {
          status,
          version: deps.version,
          network: deps.network,
          uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
          db,
          chain: chainComponent,
          squads,
          ...runtime,
        };
        return reply.status(db.ok ? 200 : 503).send(health);
      },
    );
  };
