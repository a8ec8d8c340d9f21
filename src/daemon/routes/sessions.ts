import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WaiaasError } from '../../core/errors.ts';
import { generateToken, hashToken } from '../../core/tokens.ts';
import { findSession, insertSession, listSessionsOfWallet, revokeSession } from '../../store/index.ts';
import { appendAudit } from '../audit/index.ts';
import { requireRole } from '../auth.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { idParamsSchema } from '../schemas.ts';
import { walletFor } from './access.ts';

const MAX_SESSION_SECONDS = 90 * 24 * 3600;

export const createSessionBody = z.strictObject({
  ttlSeconds: z.number().int().min(60).max(MAX_SESSION_SECONDS),
  label: z.string().min(1).max(64).optional(),
});

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };

export const sessionSchema = z
  .object({
    id: z.string(),
    walletId: z.string(),
    label: z.string().nullable(),
    status: z.enum(['active', 'revoked', 'expired']),
    createdAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({
    id: 'Session',
    description: 'an agent session as its owner sees it; its token is never shown again',
  });

const isoOf = (epochMs: bigint) => new Date(Number(epochMs)).toISOString();

export const sessionRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    typed.post(
      '/v1/wallets/:id/sessions',
      {
        onRequest: requireRole(runtime.store, 'owner'),
        schema: {
          summary: 'Issue an agent session bound to this wallet; the token is shown once',
          tags: ['sessions'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          body: createSessionBody,
          response: {
            201: z.object({ id: z.string(), token: z.string(), expiresAt: z.string() }),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const wallet = await walletFor(runtime.store, request.principal, request.params.id);
        const token = generateToken('waiaas_ses_');
        const expiresAt = BigInt(Date.now() + request.body.ttlSeconds * 1000);
        const session = await runtime.store.writeTransaction(async (trx) => {
          const created = await insertSession(trx, {
            id: `ses_${randomBytes(9).toString('base64url')}`,
            walletId: wallet.id,
            tokenHash: hashToken(token),
            label: request.body.label ?? null,
            expiresAt,
          });
          await appendAudit(trx, {
            kind: 'session.created',
            actor: { role: 'owner', id: wallet.ownerId },
            walletId: wallet.id,
            subject: created.id,
            details: { expiresAt: new Date(Number(expiresAt)).toISOString(), label: created.label },
          });
          return created;
        });
        return reply
          .status(201)
          .send({ id: session.id, token, expiresAt: new Date(Number(expiresAt)).toISOString() });
      },
    );

    typed.get(
      '/v1/wallets/:id/sessions',
      {
        onRequest: requireRole(runtime.store, 'owner'),
        schema: {
          summary: "The wallet's agent sessions, newest first, revoked and expired ones included",
          tags: ['sessions'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(100) }),
          response: {
            200: z.object({ items: z.array(sessionSchema), nextCursor: z.string().nullable() }),
            ...errors,
          },
        },
      },
      async (request) => {
        const wallet = await walletFor(runtime.store, request.principal, request.params.id);
        const now = BigInt(Date.now());
        const sessions = await listSessionsOfWallet(runtime.store.db, wallet.id, request.query.limit);
        return {
          items: sessions.map((session) => ({
            id: session.id,
            walletId: session.walletId,
            label: session.label,
            status:
              session.revokedAt !== null
                ? ('revoked' as const)
                : session.expiresAt <= now
                  ? ('expired' as const)
                  : ('active' as const),
            createdAt: isoOf(session.createdAt),
            expiresAt: isoOf(session.expiresAt),
            revokedAt: session.revokedAt === null ? null : isoOf(session.revokedAt),
          })),
          nextCursor: null,
        };
      },
    );

    typed.delete(
      '/v1/sessions/:id',
      {
        onRequest: requireRole(runtime.store, 'owner'),
        schema: {
          summary: 'Revoke an agent session at once',
          tags: ['sessions'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          response: { 204: z.null(), ...errors },
        },
      },
      async (request, reply) => {
        const session = await findSession(runtime.store.db, request.params.id);
        if (!session) throw new WaiaasError('NOT_FOUND', { message: `No session ${request.params.id}.` });
        const wallet = await walletFor(runtime.store, request.principal, session.walletId);
        await runtime.store.writeTransaction(async (trx) => {
          if (await revokeSession(trx, session.id)) {
            await appendAudit(trx, {
              kind: 'session.revoked',
              actor: { role: 'owner', id: wallet.ownerId },
              walletId: wallet.id,
              subject: session.id,
            });
          }
        });
        return reply.status(204).send(null);
      },
    );
  };
