import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isWaiaasError } from '../../core/errors.ts';
import { policyDocumentSchema } from '../../core/policy.ts';
import { ownerUnlock, requireRole } from '../auth.ts';
import { changePolicy } from '../owner-acts/change-policy.ts';
import { policyInForce } from '../owner-acts/common.ts';
import { freezeWallet } from '../owner-acts/freeze.ts';
import { resumeWallet } from '../owner-acts/resume.ts';
import { rotateAgentKey } from '../owner-acts/rotate-agent-key.ts';
import { withdraw } from '../owner-acts/withdraw.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { addressSchema, amountSchema, idParamsSchema } from '../schemas.ts';
import { ownerOf, walletFor } from './access.ts';

const layerOutcomeSchema = z
  .object({
    status: z.enum(['done', 'unchanged', 'pending']),
    signature: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: 'LayerOutcome', description: 'done now, already so, or pending (repeat the same call)' });

const freezeResultSchema = z
  .object({
    walletId: z.string(),
    status: z.literal('frozen'),
    server: z.object({
      changed: z.boolean(),
      cancelledTransfers: z.array(z.string()),
      inFlightTransfers: z
        .array(z.string())
        .describe('already signing or submitted: they confirm or fail on their own'),
    }),
    enclave: layerOutcomeSchema.extend({ policyVersion: z.number().int() }),
    chain: layerOutcomeSchema,
    notes: z.array(z.string()),
  })
  .meta({ id: 'FreezeResult' });

const resumeResultSchema = z
  .object({
    walletId: z.string(),
    status: z.literal('active'),
    agentPublicKey: addressSchema,
    policyVersion: z.number().int(),
    chain: layerOutcomeSchema,
    enclave: layerOutcomeSchema,
  })
  .meta({ id: 'ResumeResult' });

const rotateResultSchema = z
  .object({
    walletId: z.string(),
    vault: addressSchema,
    oldAgentPublicKey: addressSchema,
    agentPublicKey: addressSchema,
    chain: layerOutcomeSchema,
    retired: z.boolean(),
  })
  .meta({ id: 'RotateAgentKeyResult' });

const withdrawBody = z.strictObject({
  to: addressSchema,
  amount: z.union([z.literal('all'), amountSchema]),
  mint: addressSchema.optional(),
  idempotencyKey: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/)
    .optional(),
});

const withdrawResultSchema = z
  .object({
    walletId: z.string(),
    to: addressSchema,
    asset: z.string(),
    amount: z.string(),
    signature: z.string(),
    repeated: z.boolean(),
  })
  .meta({ id: 'WithdrawResult' });

const policyResultSchema = z
  .object({
    walletId: z.string(),
    policyVersion: z.number().int(),
    policy: policyDocumentSchema,
    enclave: layerOutcomeSchema,
    chain: layerOutcomeSchema,
  })
  .meta({ id: 'PolicyChangeResult' });

const policyViewSchema = z
  .object({
    walletId: z.string(),
    status: z.enum(['creating', 'active', 'frozen', 'failed']),
    version: z.number().int(),
    policy: policyDocumentSchema,
    ownerPublicKey: addressSchema,
    signature: z.string().describe('base64 Ed25519 signature of the owner over the policy bundle'),
  })
  .meta({ id: 'WalletPolicy' });

const errors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
  503: problemSchema,
};

const ownerAct = {
  tags: ['owner acts'],
  security: [{ bearer: [] }],
  params: idParamsSchema,
};

export const ownerActRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const owners = requireRole(runtime.services.principals, 'owner');

    typed.post(
      '/v1/wallets/:id/freeze',
      {
        onRequest: owners,
        schema: {
          ...ownerAct,
          summary: 'Kill switch: block the wallet now, then remove the agent and its limits on chain',
          description:
            'Owner-key act (X-Owner-Unlock). The server blocks the wallet and cancels transfers not yet signing before anything else; then the enclave gets a frozen policy and the chain one owner transaction. 202 when a part is pending: the wallet stays frozen, repeat the call.',
          response: { 200: freezeResultSchema, 202: freezeResultSchema, ...errors },
        },
      },
      async (request, reply) => {
        const result = await freezeWallet(runtime, {
          owner: ownerOf(request.principal),
          walletId: request.params.id,
          unlock: ownerUnlock(request),
        }).catch((error: unknown) => {
          // The server block stands even when the owner's second factor then failed.
          if (isWaiaasError(error) && error.details.serverBlocked === true && error.details.changed === true)
            runtime.services.metrics.frozen('owner');
          throw error;
        });
        if (result.server.changed) runtime.services.metrics.frozen('owner');
        const pending = result.chain.status === 'pending' || result.enclave.status === 'pending';
        return reply.status(pending ? 202 : 200).send(result);
      },
    );

    typed.post(
      '/v1/wallets/:id/resume',
      {
        onRequest: owners,
        schema: {
          ...ownerAct,
          summary:
            'Undo a freeze: the agent member, threshold 2 and the limits back; then the enclave and server',
          description:
            'Owner-key act (X-Owner-Unlock). Resumes with the policy in force before the freeze, at the next version, or with `policy` when given.',
          body: z.strictObject({ policy: z.unknown().optional() }).nullish(),
          response: { 200: resumeResultSchema, ...errors },
        },
      },
      async (request) =>
        resumeWallet(runtime, {
          owner: ownerOf(request.principal),
          walletId: request.params.id,
          unlock: ownerUnlock(request),
          ...(request.body?.policy === undefined ? {} : { policy: request.body.policy }),
        }),
    );

    typed.post(
      '/v1/wallets/:id/rotate-agent-key',
      {
        onRequest: owners,
        schema: {
          ...ownerAct,
          summary: 'Replace the agent key; the wallet address stays',
          description:
            'Owner-key act (X-Owner-Unlock). New key in the enclave, added as member before the old is removed, limits moved; the old key is retired in the enclave.',
          response: { 200: rotateResultSchema, ...errors },
        },
      },
      async (request) =>
        rotateAgentKey(runtime, {
          owner: ownerOf(request.principal),
          walletId: request.params.id,
          unlock: ownerUnlock(request),
        }),
    );

    typed.post(
      '/v1/wallets/:id/withdraw',
      {
        onRequest: owners,
        schema: {
          ...ownerAct,
          summary: 'Move SOL or a token from the vault to an owner address (all, or an amount)',
          description:
            'Owner-key act (X-Owner-Unlock). Members, threshold and agent limits are left as they are. With `idempotencyKey`, a repeated call answers from the first instead of moving funds again.',
          body: withdrawBody,
          response: { 200: withdrawResultSchema, ...errors },
        },
      },
      async (request) =>
        withdraw(runtime, {
          owner: ownerOf(request.principal),
          walletId: request.params.id,
          unlock: ownerUnlock(request),
          to: request.body.to,
          amount: request.body.amount,
          mint: request.body.mint,
          idempotencyKey: request.body.idempotencyKey,
        }),
    );

    typed.put(
      '/v1/wallets/:id/policy',
      {
        onRequest: owners,
        schema: {
          ...ownerAct,
          summary: 'Put a new policy in force: enclave, server, and the on-chain limits in one transaction',
          description:
            'Owner-key act (X-Owner-Unlock). The version must be above the one in force. 202 when the on-chain part is pending: repeat the same call.',
          body: z.strictObject({ policy: z.unknown() }),
          response: { 200: policyResultSchema, 202: policyResultSchema, ...errors },
        },
      },
      async (request, reply) => {
        const result = await changePolicy(runtime, {
          owner: ownerOf(request.principal),
          walletId: request.params.id,
          unlock: ownerUnlock(request),
          policy: request.body.policy,
        });
        return reply.status(result.chain.status === 'pending' ? 202 : 200).send(result);
      },
    );

    typed.get(
      '/v1/wallets/:id/policy',
      {
        onRequest: requireRole(runtime.services.principals, 'owner', 'agent'),
        schema: {
          ...ownerAct,
          tags: ['wallets'],
          summary: 'The owner-signed policy in force',
          response: { 200: policyViewSchema, ...errors },
        },
      },
      async (request) => {
        const wallet = await walletFor(runtime.store, request.principal, request.params.id);
        const { bundle } = policyInForce(wallet);
        return {
          walletId: wallet.id,
          status: wallet.status,
          version: bundle.policy.version,
          policy: bundle.policy,
          ownerPublicKey: bundle.ownerPublicKey,
          signature: bundle.signature,
        };
      },
    );
  };
