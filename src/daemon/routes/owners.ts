import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireRole } from '../auth.ts';
import { createOwner } from '../owners/create-owner.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { addressSchema, nameSchema } from '../schemas.ts';

const signerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('local'), passphrase: z.string().min(8).max(1024) }),
  z.strictObject({
    kind: z.literal('aws-kms'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1'),
    keyId: z.string().min(1).max(2048).optional(),
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    mfaSerial: z.string().min(9).max(256).optional(),
  }),
]);

export const createOwnerBody = z.strictObject({ name: nameSchema, signer: signerSchema });
export const createdOwnerSchema = z
  .object({ id: z.string(), token: z.string(), publicKey: addressSchema })
  .meta({ id: 'CreatedOwner' });

export const ownerRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    app.withTypeProvider<ZodTypeProvider>().post(
      '/v1/owners',
      {
        onRequest: requireRole(runtime.services.principals, 'operator'),
        schema: {
          summary: 'Create an owner and its Owner Key; the token is shown once',
          tags: ['owners'],
          security: [{ bearer: [] }],
          body: createOwnerBody,
          response: {
            201: createdOwnerSchema,
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
            // An aws-kms signer: the key is not found or not an Ed25519 key (422), KMS unreachable (503).
            422: problemSchema,
            503: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { id, token, publicKey } = await createOwner(
          runtime.store,
          runtime.config.dataDir,
          request.body,
        );
        return reply.status(201).send({ id, token, publicKey });
      },
    );
  };
