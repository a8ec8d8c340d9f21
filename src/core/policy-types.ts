/** The parsed policy: amounts as bigint, lists as sets for lookups. Built only by `parsePolicy`. */
export type Tier = 'instant' | 'notify' | 'delay' | 'approval';

export const TIERS: readonly Tier[] = ['instant', 'notify', 'delay', 'approval'];

export interface AssetLimits {
  readonly perTransaction: bigint;
  readonly daily: bigint;
  readonly tiers: {
    readonly instantMax: bigint;
    readonly notifyMax: bigint;
    readonly delayMax: bigint;
    readonly delaySeconds: number;
  };
  /** x402 payments of this asset (DESIGN.md §11); absent: the agent may not pay x402 with it. */
  readonly x402?: X402Limits;
  /** The agent float of this asset; absent: no float. */
  readonly float?: FloatLimits;
}

export interface X402Limits {
  readonly perPayment: bigint;
  /** Payee wallets allowed; undefined: any payee the recipients rule allows. */
  readonly payees: ReadonlySet<string> | undefined;
}

export interface FloatLimits {
  readonly max: bigint;
}

export type RecipientRule =
  | { readonly mode: 'allowlist'; readonly addresses: ReadonlySet<string> }
  | { readonly mode: 'any' };

export interface Policy {
  readonly version: number;
  /** Keyed "SOL" or a base58 mint. */
  readonly assets: ReadonlyMap<string, AssetLimits>;
  readonly recipients: RecipientRule;
  readonly hours: { readonly utc: readonly [number, number]; readonly days: readonly number[] };
  readonly rate: { readonly maxPerHour: number };
  readonly approvalTimeoutSeconds: number;
  /** Absent: the defaults below. */
  readonly fees?: FeeRules;
}

/** What the fee payer may spend for one wallet's agent (see policy-schema.ts `fees`). */
export interface FeeRules {
  /** Lamports per rolling day of rent for recipients' token accounts and approval requests. */
  readonly dailyLamports: bigint;
  /** Approval requests open at once: proposed or waiting, or decided but with their rent still on chain. */
  readonly maxOpenApprovals: number;
}

/** 0.1 SOL a day: about 19 approval requests, or 49 new recipient token accounts. */
export const DEFAULT_FEE_DAILY_LAMPORTS = 100_000_000n;
export const DEFAULT_MAX_OPEN_APPROVALS = 10;

export const feeRulesOf = (policy: Pick<Policy, 'fees'>): FeeRules =>
  policy.fees ?? { dailyLamports: DEFAULT_FEE_DAILY_LAMPORTS, maxOpenApprovals: DEFAULT_MAX_OPEN_APPROVALS };
