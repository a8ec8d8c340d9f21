import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { policyDocumentSchema } from '../../core/policy.ts';
import { activeAgentKeys, listWalletsOfOwner, type Wallet } from '../../store/index.ts';
import { ownerUnlock, requireRole } from '../auth.ts';
import { readWalletExposure } from '../exposure/exposure.ts';
import { walletExposureSchema } from '../exposure/schema.ts';
import { frozenReasonSchema, readFrozenReason } from '../owner-acts/frozen-reason.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { addressSchema, idParamsSchema, nameSchema } from '../schemas.ts';
import { createWallet } from '../wallets/create-wallet.ts';
import { ownerOf, walletFor } from './access.ts';

export const walletSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['creating', 'active', 'frozen', 'failed']),
    multisig: addressSchema,
    vault: addressSchema.describe('the wallet address (Squads vault 0); deposit here'),
    agentPublicKey: addressSchema.optional(),
    ownerPublicKey: addressSchema,
    policy: policyDocumentSchema,
    frozenReason: frozenReasonSchema
      .nullable()
      .describe(
        'why the wallet is frozen (owner freeze, a monitor rule, spending that bypassed the daemon); null when it is not',
      ),
    createdAt: z.string(),
    exposure: walletExposureSchema.optional().describe('GET /v1/wallets/:id only'),
  })
  .meta({ id: 'Wallet' });

export const createWalletBody = z.strictObject({ name: nameSchema, policy: z.unknown() });
const errors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  503: problemSchema,
};

export const walletRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const present = async (wallet: Wallet, ownerPublicKey: string) => {
      const [agent] = await activeAgentKeys(runtime.store.db, wallet.id);
      return {
        id: wallet.id,
        name: wallet.name,
        status: wallet.status,
        multisig: wallet.multisig,
        vault: wallet.vault,
        ...(agent ? { agentPublicKey: agent.publicKey } : {}),
        ownerPublicKey,
        policy: JSON.parse(wallet.policyBundle).policy,
        frozenReason: await readFrozenReason(runtime.store.db, wallet),
        createdAt: new Date(Number(wallet.createdAt)).toISOString(),
      };
    };

    typed.post(
      '/v1/wallets',
      {
        onRequest: requireRole(runtime.services.principals, 'owner'),
        schema: {
          summary: 'Create a wallet: a Squads v4 multisig with the agent spending limits of the policy',
          description: 'Owner-key act: send the second factor in X-Owner-Unlock.',
          tags: ['wallets'],
          security: [{ bearer: [] }],
          body: createWalletBody,
          response: { 201: walletSchema, ...errors, 409: problemSchema, 422: problemSchema },
        },
      },
      async (request, reply) => {
        const owner = ownerOf(request.principal);
        const created = await createWallet(runtime, {
          owner,
          name: request.body.name,
          policy: request.body.policy,
          unlock: ownerUnlock(request),
        });
        return reply.status(201).send(await present(created, owner.publicKey));
      },
    );

    typed.get(
      '/v1/wallets',
      {
        onRequest: requireRole(runtime.services.principals, 'owner'),
        schema: {
          summary: "The owner's wallets",
          tags: ['wallets'],
          security: [{ bearer: [] }],
          response: {
            200: z.object({ items: z.array(walletSchema), nextCursor: z.string().nullable() }),
            ...errors,
          },
        },
      },
      async (request) => {
        const owner = ownerOf(request.principal);
        const wallets = await listWalletsOfOwner(runtime.store.db, owner.id);
        return {
          items: await Promise.all(wallets.map((wallet) => present(wallet, owner.publicKey))),
          nextCursor: null,
        };
      },
    );

    typed.get(
      '/v1/wallets/:id',
      {
        onRequest: requireRole(runtime.services.principals, 'owner'),
        schema: {
          summary: 'One wallet, with its exposure: the worst-case loss if everything off-chain failed',
          tags: ['wallets'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          response: { 200: walletSchema, ...errors },
        },
      },
      async (request) => {
        const owner = ownerOf(request.principal);
        const wallet = await walletFor(runtime.store, request.principal, request.params.id);
        const [shown, exposure] = await Promise.all([
          present(wallet, owner.publicKey),
          readWalletExposure(runtime.services.chainSnapshots, wallet),
        ]);
        return { ...shown, exposure };
      },
    );

    typed.get(
      '/v1/wallets/:id/deposit-address',
      {
        onRequest: requireRole(runtime.services.principals, 'owner', 'agent'),
        schema: {
          summary: 'Where to deposit: the Squads vault PDA, never the multisig account',
          tags: ['wallets'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          response: { 200: z.object({ address: addressSchema }), ...errors },
        },
      },
      async (request) => ({
        address: (await walletFor(runtime.store, request.principal, request.params.id)).vault,
      }),
    );
  };
