import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ChainStatus } from '../../solana/chain-status.ts';
import { problemSchema } from '../problem.ts';

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
    checkedAt: z
      .object({ db: z.string(), chain: z.string(), runtime: z.string().optional() })
      .optional()
      .describe(
        'when each part was last read: GET /v1/health answers from state refreshed in the background (about every 1–2 s); GET /v1/ready reads them live',
      ),
  })
  .meta({ id: 'Health' });

export type Health = z.infer<typeof healthSchema>;

export type DatabaseHealth = Awaited<ReturnType<HealthDependencies['readDatabase']>>;
export type RuntimeHealth = Pick<Health, 'enclave' | 'feePayer' | 'ownerKeys'>;

/** The parts as last read, and when. */
export interface HealthParts {
  readonly db: DatabaseHealth;
  readonly chain: ChainStatus;
  readonly runtime: RuntimeHealth;
  readonly checkedAt: Health['checkedAt'];
}

export interface HealthDependencies {
  version: string;
  network: string;
  startedAt: number;
  readDatabase(): Promise<{ ok: boolean; engine: 'sqlite' | 'postgres'; latencyMs: number; error?: string }>;
  readChain(): Promise<ChainStatus>;
  /** The daemon's own parts, when it runs a runtime (enclave, fee payer, owner keys). */
  readRuntime?(): Promise<Pick<Health, 'enclave' | 'feePayer' | 'ownerKeys'>>;
}

/** The health document of `parts`: down without the database, degraded without any other part. */
export function healthFrom(deps: HealthDependencies, parts: HealthParts, nowMs = Date.now()): Health {
  const { db, chain, runtime } = parts;
  const { squads, ...chainComponent } = chain;
  const partsUp =
    chain.ok &&
    squads.status === 'loaded' &&
    (runtime.enclave === undefined || runtime.enclave.state === 'up') &&
    runtime.feePayer?.low !== true;
  const status = !db.ok ? 'down' : partsUp ? 'ok' : 'degraded';
  return {
    status,
    version: deps.version,
    network: deps.network,
    uptimeSeconds: Math.round((nowMs - deps.startedAt) / 1000),
    db,
    chain: chainComponent,
    squads,
    ...runtime,
    ...(parts.checkedAt === undefined ? {} : { checkedAt: parts.checkedAt }),
  };
}

/** A health answer ready to send: its status code and its JSON body. */
export interface HealthAnswer {
  readonly statusCode: 200 | 503;
  readonly body: string;
}

/** What the routes answer from (runtime/health-state.ts keeps it). */
export interface HealthSource {
  /** Resolves once every part has been read at least once. */
  readonly ready: Promise<void>;
  /** From the state kept in the background: no I/O. */
  current(): HealthAnswer;
  /** Every part read now (coalesced: at most one live read at a time and per second). */
  live(): Promise<Health>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export const healthRoutes =
  (source: HealthSource): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    typed.get(
      '/v1/health',
      {
        // The body is serialized once per change of state (health-state.ts), not once per request.
        serializerCompiler: () => (data) => (typeof data === 'string' ? data : JSON.stringify(data)),
        schema: {
          summary: 'Status of the database, the chain, the Squads program, the enclave and the fee payer',
          description:
            'Answered from state refreshed in the background, never waiting on I/O: what load balancers and orchestrators poll. ' +
            'Not rate-limited. 503 when the database is unreachable.',
          tags: ['system'],
          response: { 200: healthSchema, 503: healthSchema },
        },
      },
      async (_request, reply) => {
        await source.ready;
        const answer = source.current();
        // Already JSON (see serializerCompiler): the typed reply would want the document itself.
        return (reply as FastifyReply).status(answer.statusCode).type(JSON_TYPE).send(answer.body);
      },
    );
    typed.get(
      '/v1/ready',
      {
        schema: {
          summary: 'Readiness: every part read live; 200 only when all are up',
          description:
            'Reads the database, the chain, the enclave and the fee payer now (one live read at a time, at most one per second; ' +
            'callers in between share the latest). 503 unless the status is ok. Rate-limited per address like the rest of the API.',
          tags: ['system'],
          response: { 200: healthSchema, 429: problemSchema, 503: healthSchema },
        },
      },
      async (_request, reply) => {
        const health = await source.live();
        return reply.status(health.status === 'ok' ? 200 : 503).send(health);
      },
    );
  };
