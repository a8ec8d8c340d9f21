import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { generateToken, hashToken } from '../../core/tokens.ts';
import { type OwnerKeySpec, provisionOwnerKey } from '../../keys/index.ts';
import { insertOwner } from '../../store/index.ts';
import { appendAudit } from '../audit/index.ts';
import { requireRole } from '../auth.ts';
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
        onRequest: requireRole(runtime.store, 'operator'),
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
        const id = `own_${randomBytes(9).toString('base64url')}`;
        const { signer } = request.body;
        const spec: OwnerKeySpec =
          signer.kind === 'local'
            ? {
                kind: 'local',
                keystorePath: join(runtime.config.dataDir, 'keys', `owner-${id}.json`),
                passphrase: signer.passphrase,
              }
            : {
                kind: 'aws-kms',
                region: signer.region,
                ...(signer.keyId ? { keyId: signer.keyId } : {}),
                ...(signer.endpoint ? { endpoint: signer.endpoint } : {}),
                ...(signer.mfaSerial ? { mfaSerial: signer.mfaSerial } : {}),
              };
        const { config, publicKey } = await provisionOwnerKey(spec);
        const token = generateToken('waiaas_own_');
        await runtime.store.writeTransaction(async (trx) => {
          await insertOwner(trx, {
            id,
            name: request.body.name,
            signer: config,
            publicKey,
            tokenHash: hashToken(token),
          });
          await appendAudit(trx, {
            kind: 'owner.created',
            actor: { role: 'operator' },
            ownerId: id,
            subject: id,
            details: { signer: config.kind, publicKey },
          });
        });
        return reply.status(201).send({ id, token, publicKey });
      },
    );
  };
