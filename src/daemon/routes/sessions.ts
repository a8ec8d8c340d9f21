import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireRole } from '../auth.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { idParamsSchema } from '../schemas.ts';
import {
  issueSession,
  listWalletSessions,
  MAX_SESSION_SECONDS,
  revokeOwnedSession,
} from '../sessions/service.ts';
import { ownerOf } from './access.ts';

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
        onRequest: requireRole(runtime.services.principals, 'owner'),
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
        const session = await issueSession(
          runtime.store,
          ownerOf(request.principal),
          request.params.id,
          request.body,
        );
        return reply
          .status(201)
          .send({ id: session.id, token: session.token, expiresAt: session.expiresAt.toISOString() });
      },
    );

    typed.get(
      '/v1/wallets/:id/sessions',
      {
        onRequest: requireRole(runtime.services.principals, 'owner'),
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
        const now = BigInt(Date.now());
        const sessions = await listWalletSessions(
          runtime.store,
          ownerOf(request.principal),
          request.params.id,
          request.query.limit,
        );
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
        onRequest: requireRole(runtime.services.principals, 'owner'),
        schema: {
          summary: 'Revoke an agent session at once',
          tags: ['sessions'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          response: { 204: z.null(), ...errors },
        },
      },
      async (request, reply) => {
        await revokeOwnedSession(runtime.store, ownerOf(request.principal), request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
