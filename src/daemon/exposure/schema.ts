import { z } from 'zod';

const baseUnits = z
  .string()
  .regex(/^[0-9]+$/)
  .describe('base units, as a decimal string');

export const walletExposureSchema = z
  .object({
    chainTime: z.number().int().nullable().describe('cluster unix time the figures are computed at'),
    readAt: z.string().nullable().describe('when the chain was read (figures are cached about a second)'),
    assets: z.array(
      z.object({
        asset: z.string().describe('"SOL" or the mint'),
        remaining: baseUnits.describe("what the asset's on-chain spending limits still allow this period"),
        balance: baseUnits.nullable().describe('what the vault holds'),
        atRisk: baseUnits.describe('the most that could leave right now: remaining, capped by the balance'),
        perDay: baseUnits.describe('the most that could leave within any one day'),
      }),
    ),
    limits: z.array(
      z.object({
        address: z.string(),
        asset: z.string(),
        period: z.enum(['once', 'day', 'week', 'month']),
        amount: baseUnits,
        remaining: baseUnits,
        periodStart: z.number().int(),
        nextResetAt: z.number().int().nullable(),
        members: z.array(z.string()),
        destinations: z.array(z.string()).describe('empty: any destination'),
      }),
    ),
    error: z
      .object({ code: z.string(), message: z.string() })
      .optional()
      .describe('the chain could not be read: the figures are unknown, not zero'),
  })
  .meta({
    id: 'WalletExposure',
    description:
      'The worst-case loss if every off-chain part (daemon, enclave, database, agent) were compromised: what the on-chain spending limits still let out without the owner.',
  });
