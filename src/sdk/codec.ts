/** Wire JSON ↔ SDK values: base-unit strings become bigint on the way in and strings on the way out. */
import { amountFromWire } from './amounts.ts';
import type { AssetLimits, Policy } from './types.ts';

/** A policy as it travels: amounts as base-unit integer strings. */
export interface WirePolicy {
  version: number;
  assets: Record<
    string,
    {
      perTransaction: string;
      daily: string;
      tiers: { instantMax: string; notifyMax: string; delayMax: string; delaySeconds: number };
    }
  >;
  recipients: Policy['recipients'];
  hours: Policy['hours'];
  rate: Policy['rate'];
  approvalTimeoutSeconds: number;
}

/** Either form is accepted where the SDK takes a policy (a JSON file holds strings). */
export type PolicyInput = Policy | WirePolicy;

const amountText = (value: bigint | string, field: string): string => {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' && /^\d+$/.test(value)) return value;
  throw new TypeError(`policy ${field} must be a bigint or a base-unit integer string`);
};

export function policyToWire(policy: PolicyInput): WirePolicy {
  const assets: WirePolicy['assets'] = {};
  for (const [asset, limits] of Object.entries(policy.assets) as [
    string,
    AssetLimits | WirePolicy['assets'][string],
  ][]) {
    const at = (field: string) => `assets.${asset}.${field}`;
    assets[asset] = {
      perTransaction: amountText(limits.perTransaction, at('perTransaction')),
      daily: amountText(limits.daily, at('daily')),
      tiers: {
        instantMax: amountText(limits.tiers.instantMax, at('tiers.instantMax')),
        notifyMax: amountText(limits.tiers.notifyMax, at('tiers.notifyMax')),
        delayMax: amountText(limits.tiers.delayMax, at('tiers.delayMax')),
        delaySeconds: limits.tiers.delaySeconds,
      },
    };
  }
  return { ...policy, assets };
}

export function policyFromWire(wire: WirePolicy): Policy {
  const assets: Policy['assets'] = {};
  for (const [asset, limits] of Object.entries(wire.assets)) {
    const at = (field: string) => `assets.${asset}.${field}`;
    assets[asset] = {
      perTransaction: amountFromWire(limits.perTransaction, at('perTransaction')),
      daily: amountFromWire(limits.daily, at('daily')),
      tiers: {
        instantMax: amountFromWire(limits.tiers.instantMax, at('tiers.instantMax')),
        notifyMax: amountFromWire(limits.tiers.notifyMax, at('tiers.notifyMax')),
        delayMax: amountFromWire(limits.tiers.delayMax, at('tiers.delayMax')),
        delaySeconds: limits.tiers.delaySeconds,
      },
    };
  }
  return { ...wire, assets };
}

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
  'exposure',
  'pending',
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
