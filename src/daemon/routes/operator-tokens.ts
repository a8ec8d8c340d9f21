import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { OperatorToken } from '../../store/operator-tokens.ts';
import type { Store } from '../../store/store.ts';
import { requireRole } from '../auth.ts';
import { issueOperatorToken, operatorTokens, revokeOperatorTokenById } from '../operator-tokens/service.ts';
import type { PrincipalCache } from '../principal-cache.ts';
import { problemSchema } from '../problem.ts';
import { idParamsSchema } from '../schemas.ts';

const operatorTokenSchema = z
  .object({
    id: z.string(),
    label: z.string(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'OperatorToken' });

const createBody = z.strictObject({
  label: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\x20-\x7e]+$/, 'printable ASCII'),
});

const present = (token: OperatorToken) => ({
  id: token.id,
  label: token.label,
  createdAt: new Date(Number(token.createdAt)).toISOString(),
  revokedAt: token.revokedAt === null ? null : new Date(Number(token.revokedAt)).toISOString(),
});

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };

/** POST · GET /v1/operator-tokens, DELETE /v1/operator-tokens/:id: the operator's own tokens. */
export const operatorTokenRoutes =
  (deps: { store: Store; principals: Pick<PrincipalCache, 'resolve'> }): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const onlyOperator = requireRole(deps.principals, 'operator');
    const common = { tags: ['operator'], security: [{ bearer: [] }] };

    typed.post(
      '/v1/operator-tokens',
      {
        onRequest: onlyOperator,
        schema: {
          ...common,
          summary:
            'Issue another operator token (to rotate: issue, switch over, revoke the old one); shown once',
          body: createBody,
          response: { 201: operatorTokenSchema.extend({ token: z.string() }), ...errors },
        },
      },
      async (request, reply) => {
        const { token, secret } = await issueOperatorToken(deps.store, request.body.label);
        return reply.status(201).send({ ...present(token), token: secret });
      },
    );

    typed.get(
      '/v1/operator-tokens',
      {
        onRequest: onlyOperator,
        schema: {
          ...common,
          summary: 'Every operator token, revoked ones included (never the tokens themselves)',
          response: {
            200: z.object({ items: z.array(operatorTokenSchema), nextCursor: z.string().nullable() }),
            ...errors,
          },
        },
      },
      async () => ({ items: (await operatorTokens(deps.store)).map(present), nextCursor: null }),
    );

    typed.delete(
      '/v1/operator-tokens/:id',
      {
        onRequest: onlyOperator,
        schema: {
          ...common,
          summary: 'Revoke an operator token at once (not the last valid one)',
          params: idParamsSchema,
          response: { 204: z.null(), ...errors, 409: problemSchema },
        },
      },
      async (request, reply) => {
        await revokeOperatorTokenById(deps.store, request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
