import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireRole } from '../auth.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { idParamsSchema } from '../schemas.ts';
import { issueSession, MAX_SESSION_SECONDS, revokeOwnedSession } from '../sessions/service.ts';
import { ownerOf } from './access.ts';

export const createSessionBody = z.strictObject({
  ttlSeconds: z.number().int().min(60).max(MAX_SESSION_SECONDS),
  label: z.string().min(1).max(64).optional(),
});

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };

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
        await revokeOwnedSession(runtime.store, ownerOf(request.principal), request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
