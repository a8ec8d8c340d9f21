import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireRole } from '../auth.ts';
import { readWalletBalance } from '../owner-acts/wallet-balance.ts';
import { readWalletUsage } from '../owner-acts/wallet-usage.ts';
import { problemSchema } from '../problem.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { addressSchema, idParamsSchema } from '../schemas.ts';
import { walletFor } from './access.ts';

const baseUnits = z
  .string()
  .regex(/^[0-9]+$/)
  .describe('base units, as a decimal string');

const balanceSchema = z
  .object({
    walletId: z.string(),
    vault: addressSchema,
    sol: baseUnits.describe('lamports'),
    tokens: z.array(
      z.object({
        mint: addressSchema,
        account: addressSchema.describe("the vault's associated token account"),
        amount: baseUnits,
        decimals: z.number().int().nullable(),
        exists: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'WalletBalance' });

const layerUsageSchema = z.object({ spent: baseUnits, remaining: baseUnits.nullable() });

const usageSchema = z
  .object({
    walletId: z.string(),
    status: z.enum(['creating', 'active', 'frozen', 'failed']),
    policyVersion: z.number().int(),
    windowSeconds: z.number().int().describe('the rolling daily window of the server and the enclave'),
    chainTime: z.number().int().nullable().describe('cluster unix time of the chain figures'),
    assets: z.array(
      z.object({
        asset: z.string(),
        daily: baseUnits.nullable(),
        server: layerUsageSchema,
        enclave: layerUsageSchema.nullable(),
        chain: z
          .object({
            address: addressSchema,
            amount: baseUnits,
            spent: baseUnits,
            remaining: baseUnits,
            lastReset: z.number().int(),
            periodStart: z.number().int(),
          })
          .nullable(),
      }),
    ),
    rate: z.object({ windowSeconds: z.number().int(), enclaveTransfers: z.number().int().nullable() }),
    enclave: z.object({
      available: z.boolean(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  })
  .meta({ id: 'WalletUsage' });

const errors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  503: problemSchema,
};

export const walletStatusRoutes =
  (runtime: Runtime): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const ownerOrAgent = requireRole(runtime.services.principals, 'owner', 'agent');

    typed.get(
      '/v1/wallets/:id/balance',
      {
        onRequest: ownerOrAgent,
        schema: {
          summary: "The vault's SOL and token balances, read from the chain",
          tags: ['wallets'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          response: { 200: balanceSchema, ...errors },
        },
      },
      async (request) =>
        readWalletBalance(runtime, await walletFor(runtime.store, request.principal, request.params.id)),
    );

    typed.get(
      '/v1/wallets/:id/usage',
      {
        onRequest: ownerOrAgent,
        schema: {
          summary:
            'Spent and remaining per asset at each layer: server, enclave and the on-chain spending limit',
          tags: ['wallets'],
          security: [{ bearer: [] }],
          params: idParamsSchema,
          response: { 200: usageSchema, ...errors },
        },
      },
      async (request) =>
        readWalletUsage(runtime, await walletFor(runtime.store, request.principal, request.params.id)),
    );
  };
