/**
 * A refusal in words a model can act on: why, and what would pass instead ("over the per-transaction
 * limit of 1 SOL; up to 0.6 SOL would be instant"). Pure: computed from the policy and the budget.
 */
import type { Policy, WaiaasApiError } from '../sdk/index.ts';
import type { Budget } from './budget.ts';
import { hoursText, recipientsText } from './describe-policy.ts';
import { amountText, assetLabel, type Decimals } from './units.ts';

export interface RefusedRequest {
  readonly asset: string;
  readonly amount: bigint;
  readonly to: string;
}

export interface RefusalContext {
  readonly policy: Policy | undefined;
  readonly budget: Budget | undefined;
  readonly decimals: Decimals;
  readonly request: RefusedRequest;
  /** Lamports or token base units the vault holds, when known. */
  readonly vaultBalance?: bigint;
}

const LAYER_NAMES = { server: 'the server policy check', enclave: 'the agent enclave', chain: 'the chain' };

/** What would pass for this asset now, in one clause. */
function whatWouldPass(context: RefusalContext, allowApproval: boolean): string | undefined {
  const { request, budget, decimals } = context;
  const asset = budget?.assets.find((entry) => entry.asset === request.asset);
  if (!asset) return undefined;
  const amount = (value: bigint) => amountText(value, request.asset, decimals);
  const clauses: string[] = [];
  if (asset.largestInstant > 0n) clauses.push(`up to ${amount(asset.largestInstant)} would be instant`);
  if (asset.largestWithoutApproval > asset.largestInstant) {
    clauses.push(
      `up to ${amount(asset.largestWithoutApproval)} would go through without the owner's approval`,
    );
  }
  if (
    allowApproval &&
    asset.limits.perTransaction > asset.limits.tiers.delayMax &&
    asset.largestWithApproval > 0n
  ) {
    clauses.push(
      `from ${amount(asset.limits.tiers.delayMax + 1n)} to ${amount(asset.largestWithApproval)} would wait for the owner's approval`,
    );
  }
  if (clauses.length === 0) return `nothing more can be sent in ${assetLabel(request.asset)} now`;
  return clauses.join('; ');
}

export function explainRefusal(error: WaiaasApiError, context: RefusalContext): string {
  const { request, policy, decimals } = context;
  const amount = (value: bigint) => amountText(value, request.asset, decimals);
  const limits = policy?.assets[request.asset];
  const by = error.layer ? ` (refused by ${LAYER_NAMES[error.layer]})` : '';
  const pass = (allowApproval: boolean) => {
    const clause = whatWouldPass(context, allowApproval);
    return clause === undefined ? '' : `; ${clause}`;
  };
  switch (error.code) {
    case 'POLICY_PER_TX_LIMIT':
      return limits
        ? `Refused${by}: ${amount(request.amount)} is over the per-transaction limit of ${amount(limits.perTransaction)}${pass(true)}.`
        : `Refused${by}: over the per-transaction limit.`;
    case 'POLICY_DAILY_LIMIT': {
      const left = context.budget?.assets.find((entry) => entry.asset === request.asset)?.remainingToday;
      const leftText =
        left === undefined
          ? ''
          : ` (${amount(left)} left of ${limits ? amount(limits.daily) : 'the daily budget'})`;
      return `Refused${by}: ${amount(request.amount)} is over what is left of today's budget${leftText}${pass(true)}. The budget rolls over a ${Math.round((context.budget?.windowSeconds ?? 86_400) / 3600)} h window.`;
    }
    case 'ASSET_NOT_ALLOWED': {
      const allowed = policy ? Object.keys(policy.assets).map(assetLabel).join(', ') : undefined;
      return `Refused${by}: ${assetLabel(request.asset)} is not in the policy${allowed ? `; only ${allowed} can be sent` : ''}. Ask the owner to add it.`;
    }
    case 'RECIPIENT_NOT_ALLOWED':
      return `Refused${by}: ${request.to} is not on the allowlist. ${policy ? recipientsText(policy) : ''} Ask the owner to add the recipient.`.trim();
    case 'OUTSIDE_HOURS':
      return `Refused${by}: outside the hours the policy allows. ${policy ? hoursText(policy) : ''} Now is ${new Date().toISOString()}.`;
    case 'POLICY_RATE_LIMIT':
      return `Refused${by}: over the transfer rate${policy ? ` of ${policy.rate.maxPerHour} per hour` : ''}. Wait before the next transfer.`;
    case 'WALLET_FROZEN':
      return `Refused${by}: the owner has frozen this wallet. Nothing can be sent until the owner resumes it.`;
    case 'INSUFFICIENT_FUNDS':
      return `Refused: the vault holds less than ${amount(request.amount)}${context.vaultBalance === undefined ? '' : ` (it holds ${amount(context.vaultBalance)})`}. Ask for a deposit to the wallet's deposit address, or send less.`;
    default:
      return `Refused${by}: ${error.detail || error.title} [${error.code}]. ${error.action}`.trim();
  }
}
