/**
 * L3 as the Squads program will see the transfer: instant, notify and delay tiers spend from the
 * agent's spending limit for the asset (its remaining amount with the period reset applied, its
 * destinations), approval-tier transfers are vault transactions the owner approves on chain; both
 * need the vault to hold the amount (SOL: without leaving it below the rent-exempt minimum).
 * Read from the brief chain snapshot cache (about a second old at most).
 */
import type { Tier } from '../../core/policy.ts';
import type { ChainSnapshot } from '../exposure/chain-snapshot.ts';
import { chainNow, limitNow } from '../exposure/exposure.ts';
import type { LayerVerdict } from './types.ts';
import { notChecked, passed, refused } from './verdict.ts';

/** Lamports a plain (zero-data) account needs to stay rent-exempt. */
export const RENT_EXEMPT_MINIMUM = 890_880n;

export interface ChainLayer {
  readonly verdict: LayerVerdict;
  /** What the agent's limit still allows now; null without a limit or when unknown. */
  readonly remaining: bigint | null;
  readonly balance: bigint | null;
}

export interface ChainQuestion {
  readonly asset: string;
  readonly amount: bigint;
  readonly to: string;
  /** The tier the server gives it (or would, by amount): it decides the route on chain. */
  readonly tier: Tier;
}

const balanceRefusal = (
  question: ChainQuestion,
  balance: bigint | null,
): { details: Record<string, string | number>; note: string } | undefined => {
  if (balance === null) return undefined;
  const details = { asset: question.asset, amount: question.amount.toString(), balance: balance.toString() };
  if (question.amount > balance) return { details, note: 'The vault does not hold the amount.' };
  const left = balance - question.amount;
  if (question.asset === 'SOL' && left > 0n && left < RENT_EXEMPT_MINIMUM) {
    return {
      details: { ...details, rentExemptMinimum: RENT_EXEMPT_MINIMUM.toString() },
      note: `The vault would be left below its rent-exempt minimum (${RENT_EXEMPT_MINIMUM} lamports): send less, or all of it.`,
    };
  }
  return undefined;
};

export function chainLayer(snapshot: ChainSnapshot, question: ChainQuestion, nowMs: number): ChainLayer {
  const asOf = new Date(snapshot.readAtMs).toISOString();
  const balance = snapshot.balances.get(question.asset) ?? null;
  const limit = snapshot.agentLimits.get(question.asset);
  const now = chainNow(snapshot, nowMs);
  const current = limit && limitNow(limit, now);
  const basis = {
    chainTime: now === null ? null : Number(now),
    limit: limit ? limit.address.toBase58() : null,
    amountPerPeriod: limit ? limit.amount.toString() : null,
    remaining: current ? current.remaining.toString() : null,
    nextResetAt:
      current?.nextResetAt === undefined || current.nextResetAt === null ? null : Number(current.nextResetAt),
    balance: balance === null ? null : balance.toString(),
  };
  const result = (verdict: LayerVerdict): ChainLayer => ({
    verdict,
    remaining: current ? current.remaining : null,
    balance,
  });

  const lacking = balanceRefusal(question, balance);
  if (question.tier === 'approval') {
    const notes = ['A vault transaction: the owner approves it on chain; the spending limit is not used.'];
    if (lacking)
      return result(refused('INSUFFICIENT_FUNDS', lacking.details, basis, [...notes, lacking.note], asOf));
    return result(passed('approval', basis, notes, asOf));
  }

  if (limit === undefined || current === undefined) {
    const frozen = snapshot.limits.length === 0;
    return result(
      refused(
        frozen ? 'WALLET_FROZEN' : 'ASSET_NOT_ALLOWED',
        { asset: question.asset, programError: 'no spending limit' },
        basis,
        [
          frozen
            ? 'The wallet has no spending limit on chain (frozen).'
            : 'No spending limit for this asset on chain.',
        ],
        asOf,
      ),
    );
  }
  const destinations = limit.destinations.map((key) => key.toBase58());
  if (destinations.length > 0 && !destinations.includes(question.to)) {
    return result(
      refused(
        'RECIPIENT_NOT_ALLOWED',
        { recipient: question.to, programError: 'InvalidDestination' },
        basis,
        [],
        asOf,
      ),
    );
  }
  if (question.amount > current.remaining) {
    return result(
      refused(
        'POLICY_DAILY_LIMIT',
        {
          asset: question.asset,
          amount: question.amount.toString(),
          remaining: current.remaining.toString(),
          programError: 'SpendingLimitExceeded',
        },
        basis,
        [],
        asOf,
      ),
    );
  }
  if (lacking) return result(refused('INSUFFICIENT_FUNDS', lacking.details, basis, [lacking.note], asOf));
  const notes =
    question.tier === 'delay'
      ? ['Delay tier: the limit is used once the delay has passed, from what it allows then.']
      : [];
  return result(passed(question.tier, basis, notes, asOf));
}

export const chainUnavailable = (error: unknown): ChainLayer => ({
  verdict: notChecked(['The chain could not be read.'], error),
  remaining: null,
  balance: null,
});
