import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';

export const attestationQuery = z.strictObject({
  nonce: z
    .string()
    .regex(/^([0-9a-fA-F]{2}){1,64}$/, 'expected 1 to 64 bytes of hex')
    .optional()
    .describe('hex nonce the document must carry, so it cannot be a replay'),
});

export const attestationRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/v1/attestation',
      {
        schema: {
          summary: "The enclave's attestation document binding its agent public keys and policy hashes",
          description:
            'A COSE_Sign1 document (base64). Verify it with `waiaas attestation verify`: the chain to the pinned root, the PCRs and your nonce.',
          tags: ['system'],
          querystring: attestationQuery,
          response: {
            200: z.object({ document: z.string(), statement: z.string() }),
            400: problemSchema,
            503: problemSchema,
          },
        },
      },
      async (request) => {
        const nonce = request.query.nonce ? Buffer.from(request.query.nonce, 'hex') : undefined;
        const { document, statement } = await runtime.enclave.use((client) =>
          client.attest(nonce ? { nonce } : {}),
        );
        return { document: Buffer.from(document).toString('base64'), statement };
      },
    );
  };
