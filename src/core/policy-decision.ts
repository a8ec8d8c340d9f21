/**
 * The policy decision: one pure function both the daemon (L1) and the enclave (L2) run, each with its
 * own counters. Given the parsed policy, what is to be moved, the time and what was already spent, it
 * answers the tier or the reason to refuse. It trusts its inputs; deriving them is the caller's job.
 */
import { type AssetLimits, feeRulesOf, type Policy, type Tier } from './policy-types.ts';

export type PolicyRefusalCode =
  | 'INVALID_AMOUNT'
  | 'ASSET_NOT_ALLOWED'
  | 'POLICY_PER_TX_LIMIT'
  | 'RECIPIENT_NOT_ALLOWED'
  | 'OUTSIDE_HOURS'
  | 'POLICY_RATE_LIMIT'
  | 'POLICY_DAILY_LIMIT'
  | 'X402_NOT_ENABLED'
  | 'POLICY_X402_PER_PAYMENT'
  | 'FLOAT_NOT_ENABLED'
  | 'POLICY_FLOAT_MAX';

/**
 * What moving the funds is for (DESIGN.md §11). `transfer`: an ordinary transfer. `x402`: an x402
 * payment straight from the vault (a spendingLimitUse to the payee). `float-fill`: a spendingLimitUse
 * into the agent's float. `float-payment`: an x402 payment out of the float (a TransferChecked signed
 * by the Agent Key); the fill already counted it against `daily`, so it does not count again.
 */
export type SpendPurpose = 'transfer' | 'x402' | 'float-fill' | 'float-payment';

export interface TransferIntent {
  /** "SOL" or a base58 mint. */
  readonly asset: string;
  readonly amount: bigint;
  /** The wallet address receiving the funds; undefined when it cannot be known (e.g. a bare token account). */
  readonly recipient: string | undefined;
  /** `transfer` when absent. */
  readonly purpose?: SpendPurpose;
}

export interface PolicyCounters {
  /** What this asset already spent inside the daily window (policy-window.ts), tiers instant…delay. */
  readonly spentInWindow: bigint;
  /** Transfers of any asset signed inside the rate window. */
  readonly transfersInLastHour: number;
  /**
   * float-fill only: what the float of this asset already holds or took in, as the layer can know it
   * (the enclave: its fills inside the daily window; the server: the larger of that and the float's
   * balance plus fills on their way).
   */
  readonly floatHeld?: bigint;
}

export type PolicyDecision =
  | {
      readonly ok: true;
      readonly tier: Tier;
      /** Seconds to wait before signing: delaySeconds for the delay tier, otherwise 0. */
      readonly delaySeconds: number;
      /** Whether it is counted against `daily` (instant, notify, delay); approval-tier transfers are not. */
      readonly consumesDaily: boolean;
    }
  | {
      readonly ok: false;
      readonly code: PolicyRefusalCode;
      readonly details: Record<string, string | number>;
    };

const refuse = (
  code: PolicyRefusalCode,
  details: Record<string, string | number>,
): Extract<PolicyDecision, { ok: false }> => ({ ok: false, code, details });

export const tierFor = (limits: AssetLimits, amount: bigint): Tier => {
  if (amount <= limits.tiers.instantMax) return 'instant';
  if (amount <= limits.tiers.notifyMax) return 'notify';
  if (amount <= limits.tiers.delayMax) return 'delay';
  return 'approval';
};

/** Whether `nowMs` falls within the policy's hours: [start, end) UTC hours on the listed UTC weekdays. */
export const withinHours = (policy: Policy, nowMs: number): boolean => {
  const now = new Date(nowMs);
  const hour = now.getUTCHours();
  const [start, end] = policy.hours.utc;
  return policy.hours.days.includes(now.getUTCDay()) && hour >= start && hour < end;
};

/**
 * `by-amount`: the tier follows the amount (what the daemon decides, and what the enclave checks for a
 * spending-limit transfer). `owner-approval`: the transfer is a vault transaction the owner must approve
 * on-chain, so it is approval tier whatever its amount and does not consume `daily`; the
 * per-transaction cap, allowlist, hours and rate still apply.
 */
export type TransferRoute = 'by-amount' | 'owner-approval';

const isX402 = (purpose: SpendPurpose) => purpose === 'x402' || purpose === 'float-payment';
const usesFloat = (purpose: SpendPurpose) => purpose === 'float-fill' || purpose === 'float-payment';

/**
 * Checks in a fixed order so the same request always gets the same code: asset, amount, what the
 * purpose needs enabled (x402, float), the x402 per-payment cap, the per-transaction cap, x402 payees,
 * recipient, hours, rate, the float's cap, then the daily budget (only for tiers that consume it).
 */
export const decideTransfer = (
  policy: Policy,
  intent: TransferIntent,
  nowMs: number,
  counters: PolicyCounters,
  route: TransferRoute = 'by-amount',
): PolicyDecision => {
  const limits = policy.assets.get(intent.asset);
  if (limits === undefined) return refuse('ASSET_NOT_ALLOWED', { asset: intent.asset });
  if (intent.amount <= 0n) return refuse('INVALID_AMOUNT', { amount: intent.amount.toString() });
  const purpose = intent.purpose ?? 'transfer';
  if (isX402(purpose) && limits.x402 === undefined)
    return refuse('X402_NOT_ENABLED', { asset: intent.asset });
  if (usesFloat(purpose) && limits.float === undefined)
    return refuse('FLOAT_NOT_ENABLED', { asset: intent.asset });
  if (isX402(purpose) && intent.amount > limits.x402!.perPayment) {
    return refuse('POLICY_X402_PER_PAYMENT', {
      asset: intent.asset,
      amount: intent.amount.toString(),
      perPayment: limits.x402!.perPayment.toString(),
    });
  }
  if (intent.amount > limits.perTransaction) {
    return refuse('POLICY_PER_TX_LIMIT', {
      asset: intent.asset,
      amount: intent.amount.toString(),
      perTransaction: limits.perTransaction.toString(),
    });
  }
  const payees = isX402(purpose) ? limits.x402!.payees : undefined;
  if (payees !== undefined && (intent.recipient === undefined || !payees.has(intent.recipient))) {
    return refuse('RECIPIENT_NOT_ALLOWED', { recipient: intent.recipient ?? 'unknown', list: 'x402.payees' });
  }
  if (policy.recipients.mode === 'allowlist') {
    if (intent.recipient === undefined || !policy.recipients.addresses.has(intent.recipient)) {
      return refuse('RECIPIENT_NOT_ALLOWED', { recipient: intent.recipient ?? 'unknown' });
    }
  }
  if (!withinHours(policy, nowMs)) {
    return refuse('OUTSIDE_HOURS', {
      utc: `${policy.hours.utc[0]}-${policy.hours.utc[1]}`,
      days: policy.hours.days.join(','),
    });
  }
  if (counters.transfersInLastHour + 1 > policy.rate.maxPerHour) {
    return refuse('POLICY_RATE_LIMIT', { maxPerHour: policy.rate.maxPerHour });
  }
  if (purpose === 'float-fill' && (counters.floatHeld ?? 0n) + intent.amount > limits.float!.max) {
    const held = counters.floatHeld ?? 0n;
    return refuse('POLICY_FLOAT_MAX', {
      asset: intent.asset,
      amount: intent.amount.toString(),
      max: limits.float!.max.toString(),
      room: (limits.float!.max > held ? limits.float!.max - held : 0n).toString(),
    });
  }
  if (purpose === 'float-payment')
    return { ok: true, tier: 'instant', delaySeconds: 0, consumesDaily: false };
  const tier = route === 'owner-approval' ? 'approval' : tierFor(limits, intent.amount);
  const consumesDaily = tier !== 'approval';
  if (consumesDaily && counters.spentInWindow + intent.amount > limits.daily) {
    const remaining = limits.daily > counters.spentInWindow ? limits.daily - counters.spentInWindow : 0n;
    return refuse('POLICY_DAILY_LIMIT', {
      asset: intent.asset,
      amount: intent.amount.toString(),
      daily: limits.daily.toString(),
      remaining: remaining.toString(),
    });
  }
  return { ok: true, tier, delaySeconds: tier === 'delay' ? limits.tiers.delaySeconds : 0, consumesDaily };
};

export type FeeRefusalCode = 'FEE_BUDGET_EXCEEDED' | 'TOO_MANY_OPEN_APPROVALS';

export interface FeeSpend {
  /** Lamports the fee payer would spend now for this wallet (rent of an account it creates). */
  readonly lamports: bigint;
  /** Whether the spend opens one more approval request. */
  readonly opensApproval: boolean;
}

export interface FeeCounters {
  /** Lamports the fee payer spent for this wallet within the daily window. */
  readonly spentInWindow: bigint;
  /** Approval requests of this wallet open now (their rent not yet returned). */
  readonly openApprovals: number;
}

/**
 * Whether the fee payer may spend for this wallet's agent: the fee payer is the operator's money, so
 * the owner's policy caps what an agent (or anyone holding its session) can make it lock or lose.
 */
export const decideFeeSpend = (
  policy: Pick<Policy, 'fees'>,
  spend: FeeSpend,
  counters: FeeCounters,
):
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: FeeRefusalCode;
      readonly details: Record<string, string | number>;
    } => {
  const rules = feeRulesOf(policy);
  if (spend.opensApproval && counters.openApprovals + 1 > rules.maxOpenApprovals) {
    return {
      ok: false,
      code: 'TOO_MANY_OPEN_APPROVALS',
      details: { open: counters.openApprovals, maxOpenApprovals: rules.maxOpenApprovals },
    };
  }
  if (counters.spentInWindow + spend.lamports > rules.dailyLamports) {
    const left =
      rules.dailyLamports > counters.spentInWindow ? rules.dailyLamports - counters.spentInWindow : 0n;
    return {
      ok: false,
      code: 'FEE_BUDGET_EXCEEDED',
      details: {
        lamports: spend.lamports.toString(),
        dailyLamports: rules.dailyLamports.toString(),
        remaining: left.toString(),
      },
    };
  }
  return { ok: true };
};
