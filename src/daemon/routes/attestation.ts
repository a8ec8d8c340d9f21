import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WaiaasError } from '../../core/errors.ts';
import { bearerToken, resolvePrincipal } from '../auth.ts';
import type { EnclaveClient } from '../enclave-client.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { idParamsSchema } from '../schemas.ts';
import { walletFor } from './access.ts';

export const attestationQuery = z.strictObject({
  nonce: z
    .string()
    .regex(/^([0-9a-fA-F]{2}){1,64}$/, 'expected 1 to 64 bytes of hex')
    .optional()
    .describe('hex nonce the document must carry, so it cannot be a replay'),
  walletId: idParamsSchema.shape.id
    .optional()
    .describe(
      "a wallet whose agent keys and policy hash the statement should cover; needs that wallet's owner or agent token",
    ),
});

/** The wallet the caller asked about, if it may see it; NOT_FOUND as for a wallet that does not exist. */
async function attestedWallet(runtime: Runtime, request: FastifyRequest, walletId: string): Promise<string> {
  const token = bearerToken(request);
  if (token === undefined) {
    throw new WaiaasError('UNAUTHORIZED', {
      message: "Send the wallet's owner or agent token to attest a wallet.",
    });
  }
  request.principal = await resolvePrincipal(runtime.store, token);
  return (await walletFor(runtime.store, request.principal, walletId)).id;
}

/**
 * GET /v1/attestation. Anyone gets the enclave's document (its code's measurements, the nonce) with a
 * statement covering no wallet: which wallets a daemon serves, their agent keys and policies are
 * nobody else's business. A wallet's owner or agent adds `walletId` and gets a statement covering
 * that wallet alone, signed into the document like any other (user_data = sha256(statement)), so
 * they can check its agent keys and policy hash without learning of any other tenant.
 */
export const attestationRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/v1/attestation',
      {
        schema: {
          summary:
            "The enclave's attestation document; with walletId, binding that wallet's agent keys and policy hash",
          description:
            'A COSE_Sign1 document (base64) whose user_data is sha256 of `statement`. Without walletId the statement ' +
            'lists no wallet; with walletId (and that wallet’s owner or agent token) it lists that wallet only. ' +
            'Verify it with `waiaas attestation verify`: the chain to the pinned root, the PCRs and your nonce.',
          tags: ['system'],
          querystring: attestationQuery,
          response: {
            200: z.object({ document: z.string(), statement: z.string() }),
            400: problemSchema,
            401: problemSchema,
            404: problemSchema,
            503: problemSchema,
          },
        },
      },
      async (request) => {
        const walletIds =
          request.query.walletId === undefined
            ? []
            : [await attestedWallet(runtime, request, request.query.walletId)];
        const nonce = request.query.nonce ? Buffer.from(request.query.nonce, 'hex') : undefined;
        const attest = (client: EnclaveClient) => client.attest({ ...(nonce ? { nonce } : {}), walletIds });
        // A wallet's document comes from the instance that serves it; without one, from this replica's.
        const { document, statement } =
          walletIds[0] === undefined
            ? await runtime.enclave.use(attest)
            : await runtime.signers.useFor(walletIds[0], attest);
        return { document: Buffer.from(document).toString('base64'), statement };
      },
    );
  };
