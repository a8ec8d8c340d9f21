/** Wire JSON ↔ SDK values: base-unit strings become bigint on the way in and strings on the way out. */
import type { DryRunResult, Policy } from './types.ts';

/** A policy as it travels: amounts as base-unit integer strings. */
export interface WirePolicy {
  version: number;
  assets: Record<
    string,
    {
      perTransaction: string;
      daily: string;
      tiers: { instantMax: string; notifyMax: string; delayMax: string; delaySeconds: number };
      x402?: { perPayment: string; payees?: string[] };
      float?: { max: string };
    }
  >;
  recipients: Policy['recipients'];
  hours: Policy['hours'];
  rate: Policy['rate'];
  approvalTimeoutSeconds: number;
  fees?: { dailyLamports?: string; maxOpenApprovals?: number };
}

/** Either form is accepted where the SDK takes a policy (a JSON file holds strings). */
export type PolicyInput = Policy | WirePolicy;

/** JSON with every bigint written as its decimal string: how amounts travel. */
export const toJson = (value: unknown): string =>
  JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item));

/**
 * The policy as it travels: bigint amounts as base-unit strings. Nothing else is touched: the daemon
 * validates the document and names what is wrong.
 */
export const policyToWire = (policy: PolicyInput): WirePolicy => JSON.parse(toJson(policy)) as WirePolicy;

/**
 * Fields that carry base units wherever they appear in an answer (transfers, balances, usage). Only
 * decimal integer strings are converted, so a field that happens to share a name keeps its value.
 */
const AMOUNT_FIELDS = new Set([
  'amount',
  'sol',
  'lamports',
  'balance',
  'spent',
  'remaining',
  'remainingAmount',
  'reserved',
  'limit',
  'daily',
  'perTransaction',
  'instantMax',
  'notifyMax',
  'delayMax',
  'dailyLamports',
  'exposure',
  'pending',
  'perPayment',
  'max',
]);

/** A copy of an answer with every base-unit field (see AMOUNT_FIELDS) as bigint. */
export function amountsFromWire<T>(value: unknown): T {
  const walk = (item: unknown, key: string | undefined): unknown => {
    if (Array.isArray(item)) return item.map((element) => walk(element, undefined));
    if (typeof item === 'object' && item !== null) {
      return Object.fromEntries(Object.entries(item).map(([field, inner]) => [field, walk(inner, field)]));
    }
    if (
      key !== undefined &&
      AMOUNT_FIELDS.has(key) &&
      typeof item === 'string' &&
      /^-?\d{1,40}$/.test(item)
    ) {
      return BigInt(item);
    }
    return item;
  };
  return walk(value, undefined) as T;
}

type Wire<T> = T extends bigint ? string : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

const bigOrNull = (text: string | null): bigint | null => (text === null ? null : BigInt(text));

/** A dry run's answer, its amounts as bigint (nested under names no other answer uses). */
export function dryRunFromWire(wire: Wire<DryRunResult>): DryRunResult {
  const { budget } = wire;
  return {
    ...wire,
    amount: BigInt(wire.amount),
    budget: {
      ...budget,
      perTransaction: bigOrNull(budget.perTransaction),
      daily: bigOrNull(budget.daily),
      remaining: {
        server: bigOrNull(budget.remaining.server),
        enclave: bigOrNull(budget.remaining.enclave),
        chain: bigOrNull(budget.remaining.chain),
        effective: bigOrNull(budget.remaining.effective),
      },
      balance: bigOrNull(budget.balance),
      tiers: budget.tiers.map((range) => ({
        ...range,
        from: BigInt(range.from),
        to: bigOrNull(range.to),
        upTo: bigOrNull(range.upTo),
      })),
    },
  };
}
