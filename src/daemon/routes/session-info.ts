/**
 * `GET /v1/session`: who an agent token is — its session, its wallet, its expiry and the policy it
 * acts under — so an agent (the MCP server, an SDK script) needs only the daemon's URL and its token.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WaiaasError } from '../../core/errors.ts';
import { policyDocumentSchema } from '../../core/policy.ts';
import { findWallet } from '../../store/index.ts';
import { requireRole } from '../auth.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { addressSchema } from '../schemas.ts';
import { sessionSchema } from './sessions.ts';

const iso = (ms: bigint) => new Date(Number(ms)).toISOString();

export const currentSessionSchema = z
  .object({
    session: sessionSchema,
    wallet: z.object({
      id: z.string(),
      name: z.string(),
      status: z.enum(['creating', 'active', 'frozen', 'failed']),
      vault: addressSchema.describe('the wallet address (Squads vault 0)'),
    }),
    policy: policyDocumentSchema.describe('the owner-signed policy the agent acts under'),
  })
  .meta({ id: 'CurrentSession' });

export const sessionInfoRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/v1/session',
      {
        onRequest: requireRole(runtime.services.principals, 'agent'),
        schema: {
          summary: 'Who this agent token is: its session, its wallet and the policy it acts under',
          tags: ['sessions'],
          security: [{ bearer: [] }],
          response: { 200: currentSessionSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema },
        },
      },
      async (request) => {
        if (request.principal?.role !== 'agent') throw new WaiaasError('FORBIDDEN');
        const { session } = request.principal;
        const wallet = await findWallet(runtime.store.db, session.walletId);
        if (!wallet) throw new WaiaasError('NOT_FOUND', { message: `No wallet ${session.walletId}.` });
        // An agent token reaches here only while it is neither revoked nor expired (requireRole).
        return {
          session: {
            id: session.id,
            walletId: session.walletId,
            label: session.label,
            status: 'active' as const,
            createdAt: iso(session.createdAt),
            expiresAt: iso(session.expiresAt),
            revokedAt: null,
          },
          wallet: { id: wallet.id, name: wallet.name, status: wallet.status, vault: wallet.vault },
          policy: JSON.parse(wallet.policyBundle).policy,
        };
      },
    );
  };
