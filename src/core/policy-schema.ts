/**
 * The owner's policy document (DESIGN.md §4) as it travels: JSON, amounts as base-unit integer strings.
 * This schema is the one validation of a policy, used by the daemon (L1, API input) and the enclave (L2).
 * It has no transforms, so it also describes the wire form in OpenAPI; `parsePolicy` turns a valid
 * document into bigints.
 */
import { z } from 'zod';
import { isAddress } from './address.ts';

export const U64_MAX = 18_446_744_073_709_551_615n;
export const SOL_ASSET = 'SOL';

/** A positive integer in base units that fits in u64, without sign, leading zeros or exponent. */
export const baseUnitAmountSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,19}$/, 'a positive integer string in base units, without leading zeros')
  .refine(
    (text) => !/^[0-9]{1,30}$/.test(text) || BigInt(text) <= U64_MAX,
    'at most u64 max (18446744073709551615)',
  );

const addressSchema = z
  .string()
  .refine((text): boolean => isAddress(text), 'a base58 Solana address of 32 bytes');

/** "SOL" for native lamports, otherwise the base58 address of an SPL mint. */
export const assetIdSchema = z
  .string()
  .refine((key): boolean => key === SOL_ASSET || isAddress(key), '"SOL" or a base58 mint address');

const MAX_DELAY_SECONDS = 7 * 86_400;

const isBaseUnits = (text: string | undefined): text is string =>
  text !== undefined && /^[1-9][0-9]{0,19}$/.test(text);

/**
 * x402 payments (DESIGN.md §11) of an SPL token: each payment at most `perPayment`, only to `payees`
 * when listed (and always within `recipients`). They are signed at once, so `perPayment` ≤ notifyMax.
 */
const x402LimitsSchema = z.strictObject({
  perPayment: baseUnitAmountSchema,
  payees: z
    .array(addressSchema)
    .min(1)
    .max(1_000)
    .refine((list) => new Set(list).size === list.length, 'payees must be unique')
    .optional(),
});

/**
 * The agent float for x402 facilitators that take only plain transfers: a token account of the
 * Agent Key, filled only from the vault through the spending limit. `max` caps what it holds, and
 * what the enclave (which cannot see balances) lets into it per daily window.
 */
const floatLimitsSchema = z.strictObject({ max: baseUnitAmountSchema });

const assetLimitsSchema = z
  .strictObject({
    perTransaction: baseUnitAmountSchema,
    daily: baseUnitAmountSchema,
    tiers: z.strictObject({
      instantMax: baseUnitAmountSchema,
      notifyMax: baseUnitAmountSchema,
      delayMax: baseUnitAmountSchema,
      delaySeconds: z.number().int().min(0).max(MAX_DELAY_SECONDS),
    }),
    x402: x402LimitsSchema.optional(),
    float: floatLimitsSchema.optional(),
  })
  .superRefine((limits, context) => {
    // Only compare once every amount parsed; the field errors above already say what is wrong.
    const amounts = [limits.perTransaction, limits.daily, limits.tiers.instantMax, limits.tiers.notifyMax];
    if (![...amounts, limits.tiers.delayMax].every((text) => /^[1-9][0-9]{0,19}$/.test(text))) return;
    const instantMax = BigInt(limits.tiers.instantMax);
    const notifyMax = BigInt(limits.tiers.notifyMax);
    const delayMax = BigInt(limits.tiers.delayMax);
    if (instantMax > notifyMax)
      context.addIssue({
        code: 'custom',
        path: ['tiers', 'instantMax'],
        message: 'instantMax must be ≤ notifyMax',
      });
    if (notifyMax > delayMax)
      context.addIssue({
        code: 'custom',
        path: ['tiers', 'notifyMax'],
        message: 'notifyMax must be ≤ delayMax',
      });
    if (delayMax > BigInt(limits.daily))
      context.addIssue({ code: 'custom', path: ['tiers', 'delayMax'], message: 'delayMax must be ≤ daily' });
    // Above perTransaction a request is refused, so a delayMax above it would name a tier nobody reaches.
    if (delayMax > BigInt(limits.perTransaction))
      context.addIssue({
        code: 'custom',
        path: ['perTransaction'],
        message: 'perTransaction must be ≥ delayMax',
      });
  })
  .superRefine((limits, context) => {
    // x402 payments and float fills are signed at once: never a delay or an approval.
    const notifyMax = limits.tiers.notifyMax;
    if (!isBaseUnits(notifyMax)) return;
    if (isBaseUnits(limits.x402?.perPayment) && BigInt(limits.x402.perPayment) > BigInt(notifyMax))
      context.addIssue({
        code: 'custom',
        path: ['x402', 'perPayment'],
        message: 'x402.perPayment must be ≤ tiers.notifyMax',
      });
    if (limits.float !== undefined && limits.x402 === undefined)
      context.addIssue({ code: 'custom', path: ['float'], message: 'a float needs x402 on the same asset' });
    if (isBaseUnits(limits.float?.max) && BigInt(limits.float.max) > BigInt(notifyMax))
      context.addIssue({
        code: 'custom',
        path: ['float', 'max'],
        message: 'float.max must be ≤ tiers.notifyMax',
      });
  });

const recipientsSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('allowlist'),
    addresses: z
      .array(addressSchema)
      .max(10_000)
      .refine((list) => new Set(list).size === list.length, 'addresses must be unique'),
  }),
  z.strictObject({ mode: z.literal('any') }),
]);

const hoursSchema = z.strictObject({
  /** [start, end) in whole UTC hours, 0 ≤ start < end ≤ 24. */
  utc: z
    .tuple([z.number().int().min(0).max(23), z.number().int().min(1).max(24)])
    .refine(([start, end]) => start < end, 'utc must be [start, end) with start < end'),
  /** Days of the week as in Date.getUTCDay: 0 = Sunday … 6 = Saturday. */
  days: z
    .array(z.number().int().min(0).max(6))
    .min(1)
    .max(7)
    .refine((days) => new Set(days).size === days.length, 'days must be unique'),
});

export const policyDocumentSchema = z.strictObject({
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  assets: z
    .record(assetIdSchema, assetLimitsSchema)
    .refine((assets) => Object.keys(assets).length <= 64, 'at most 64 assets')
    .superRefine((assets, context) => {
      // x402's exact scheme on Solana moves SPL tokens only (a TransferChecked).
      const sol = assets[SOL_ASSET];
      if (sol?.x402 !== undefined || sol?.float !== undefined)
        context.addIssue({ code: 'custom', path: [SOL_ASSET], message: 'x402 and float are for SPL tokens' });
    }),
  recipients: recipientsSchema,
  hours: hoursSchema,
  rate: z.strictObject({ maxPerHour: z.number().int().min(1).max(1_000_000) }),
  approvalTimeoutSeconds: z
    .number()
    .int()
    .min(60)
    .max(30 * 86_400),
  /**
   * What the fee payer (the operator's money) spends for this wallet's agent: rent of recipients' new
   * token accounts and of approval requests, per day; and how many approval requests may be open at
   * once. Optional; defaults in policy-types.ts.
   */
  fees: z
    .strictObject({
      dailyLamports: baseUnitAmountSchema.optional(),
      maxOpenApprovals: z.number().int().min(1).max(1_000).optional(),
    })
    .optional(),
});

/** The wire form: what the owner writes and signs, amounts as strings. */
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;
