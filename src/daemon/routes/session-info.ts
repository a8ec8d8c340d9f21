/**
 * Sessions as their holders see them: `GET /v1/session` tells an agent token who it is (its session,
 * its wallet, its expiry and the policy it acts under), so an agent needs only the daemon's URL and
 * its token; `GET /v1/wallets/:id/sessions` lists a wallet's sessions to its owner (never a token).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WaiaasError } from '../../core/errors.ts';
import { policyDocumentSchema } from '../../core/policy.ts';
import { findWallet, type Session } from '../../store/index.ts';
import { requireRole } from '../auth.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { addressSchema, idParamsSchema } from '../schemas.ts';
import { walletFor } from './access.ts';

const iso = (ms: bigint | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

const sessionStatus = (session: Session, nowMs: bigint): 'active' | 'expired' | 'revoked' =>
  session.revokedAt !== null ? 'revoked' : session.expiresAt <= nowMs ? 'expired' : 'active';

export const sessionViewSchema = z
  .object({
    id: z.string(),
    walletId: z.string(),
    label: z.string().nullable(),
    status: z.enum(['active', 'expired', 'revoked']),
    createdAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'Session' });

export const sessionInfoSchema = z
  .object({
    session: sessionViewSchema,
    wallet: z.object({
      id: z.string(),
      name: z.string(),
      status: z.enum(['creating', 'active', 'frozen', 'failed']),
      vault: addressSchema.describe('the wallet address (Squads vault 0)'),
    }),
    policy: policyDocumentSchema.describe('the owner-signed policy the agent acts under'),
  })
  .meta({ id: 'SessionInfo' });

const sessionView = (session: Session, nowMs: bigint) => ({
  id: session.id,
  walletId: session.walletId,
  label: session.label,
  status: sessionStatus(session, nowMs),
  createdAt: iso(session.createdAt)!,
  expiresAt: iso(session.expiresAt)!,
  revokedAt: iso(session.revokedAt),
});

const MAX_LISTED = 200;

export const sessionInfoRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    typed.get(
      '/v1/session',
      {
        onRequest: requireRole(runtime.store, 'agent'),
        schema: {
          summary: 'Who this agent token is: its session, its wallet and the policy it acts under',
          tags: ['sessions'],
          security: [{ bearer: [] }],
          response: { 200: sessionInfoSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema },
        },
      },
      async (request) => {
        if (request.principal?.role !== 'agent') throw new WaiaasError('FORBIDDEN');
        const { session } = request.principal;
        const wallet = await findWallet(runtime.store.db, session.walletId);
        if (!wallet) throw new WaiaasError('NOT_FOUND', { message: `No wallet ${session.walletId}.` });
        return {
          session: sessionView(session, BigInt(Date.now())),
          wallet: { id: wallet.id, name: wallet.name, status: wallet.status, vault: wallet.vault },
          policy: JSON.parse(wallet.policyBundle).policy,
        };
      },
    );

    typed.get(
      '/v1/wallets/:id/sessions',
      {
        onRequest: requireRole(runtime.store, 'owner'),
        schema: {
          summary: "The wallet's agent sessions, newest first (the latest 200; never their tokens)",
          tags: ['sessions'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          response: {
            200: z.object({ items: z.array(sessionViewSchema), nextCursor: z.string().nullable() }),
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
            404: problemSchema,
          },
        },
      },
      async (request) => {
        const wallet = await walletFor(runtime.store, request.principal, request.params.id);
        const rows = await runtime.store.db
          .selectFrom('sessions')
          .select(['id', 'wallet_id', 'label', 'expires_at', 'revoked_at', 'created_at'])
          .where('wallet_id', '=', wallet.id)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(MAX_LISTED)
          .execute();
        const now = BigInt(Date.now());
        return {
          items: rows.map((row) =>
            sessionView(
              {
                id: row.id,
                walletId: row.wallet_id,
                label: row.label,
                expiresAt: row.expires_at,
                revokedAt: row.revoked_at,
                createdAt: row.created_at,
              },
              now,
            ),
          ),
          nextCursor: null,
        };
      },
    );
  };
