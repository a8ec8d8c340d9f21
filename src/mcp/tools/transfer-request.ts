/** What send and dry_run_send share: the arguments, UI amounts to exact base units, refusals explained. */
import { InvalidAmountError, parseUnits, type Tier, type Transfer, WaiaasApiError } from '../../sdk/index.ts';
import type { AgentWallet } from '../agent-wallet.ts';
import { assetLimitsText, hoursText, recipientsText } from '../describe-policy.ts';
import { explainRefusal, type RefusedRequest } from '../explain-refusal.ts';
import { amountText, assetLabel, type Decimals, decimalsOf, SOL_ASSET } from '../units.ts';
import {
  BASE58_ADDRESS,
  type DescriptionContext,
  failure,
  type JsonSchemaObject,
  stringArg,
  ToolInputError,
} from './tool.ts';

export const TIER_MEANING: Record<Tier, string> = {
  instant: 'sent at once',
  notify: 'sent at once, with the owner notified',
  delay: 'held for the policy delay (the owner may cancel), then sent',
  approval: 'held until the owner approves it',
};

export const transferSchema = (withKey: boolean): JsonSchemaObject => ({
  type: 'object',
  properties: {
    to: {
      type: 'string',
      description: 'Recipient wallet address (base58). For a token, its associated token account receives.',
    },
    amount: {
      type: 'string',
      pattern: '^[0-9]*\\.?[0-9]+$',
      description: 'Amount in UI units as a decimal string, e.g. "0.25" for 0.25 SOL (not lamports).',
    },
    asset: {
      type: 'string',
      description: '"SOL" (default) or the SPL token mint address.',
      default: SOL_ASSET,
    },
    memo: { type: 'string', maxLength: 256, description: 'Optional note stored with the transfer.' },
    ...(withKey
      ? {
          idempotency_key: {
            type: 'string',
            maxLength: 128,
            description:
              'Optional. Reuse the same key to retry the same transfer safely (it is sent at most once).',
          },
        }
      : {}),
  },
  required: ['to', 'amount'],
  additionalProperties: false,
});

export const limitsSummary = ({ policy, decimals }: DescriptionContext): string => {
  if (!policy) return 'Call get_policy for your limits.';
  const assets = Object.entries(policy.assets).map(([asset, limits]) =>
    assetLimitsText(asset, limits, decimals),
  );
  return [
    `Your limits (policy version ${policy.version}):`,
    ...(assets.length > 0 ? assets : ['no asset may be sent now (the wallet may be frozen).']),
    recipientsText(policy),
    hoursText(policy),
    `Rate: at most ${policy.rate.maxPerHour} transfers per hour.`,
  ].join(' ');
};

export interface ParsedRequest extends RefusedRequest {
  memo: string | undefined;
}

export async function parseRequest(
  args: Record<string, unknown>,
  wallet: AgentWallet,
): Promise<{ request: ParsedRequest; decimals: Decimals }> {
  const to = stringArg(args, 'to', { required: true, pattern: BASE58_ADDRESS });
  const amountText = stringArg(args, 'amount', { required: true, max: 64 });
  const asset = stringArg(args, 'asset', { pattern: /^(SOL|[1-9A-HJ-NP-Za-km-z]{32,44})$/ }) ?? SOL_ASSET;
  const memo = stringArg(args, 'memo', { max: 256 });
  const decimals = await wallet.decimals();
  const places = decimalsOf(decimals, asset);
  if (places === undefined) {
    throw new ToolInputError(
      `${assetLabel(asset)} is not in your policy, so it cannot be sent (and its decimals are unknown). Call get_policy for the assets you may send.`,
    );
  }
  const amount = parseUnits(amountText, places);
  if (amount <= 0n) throw new ToolInputError('"amount" must be more than zero.');
  return { request: { to, asset, amount, memo }, decimals };
}

/** A refusal or failure as a tool error that says why and what would pass. */
export async function refusal(
  error: unknown,
  wallet: AgentWallet,
  request: RefusedRequest,
  decimals: Decimals,
) {
  if (error instanceof ToolInputError || error instanceof InvalidAmountError) return failure(error.message);
  if (!(error instanceof WaiaasApiError)) throw error;
  const [context, balance] = await Promise.all([
    wallet.budget().catch(() => undefined),
    error.code === 'INSUFFICIENT_FUNDS'
      ? wallet.balance().catch(() => undefined)
      : Promise.resolve(undefined),
  ]);
  const vaultBalance =
    balance === undefined
      ? undefined
      : request.asset === SOL_ASSET
        ? balance.sol
        : balance.tokens.find((token) => token.mint === request.asset)?.amount;
  return failure(
    explainRefusal(error, {
      policy: context?.policy,
      budget: context?.budget,
      decimals: context?.decimals ?? decimals,
      request,
      ...(vaultBalance === undefined ? {} : { vaultBalance }),
    }),
  );
}

export function transferText(transfer: Transfer, decimals: Decimals): string {
  const what = `${amountText(transfer.amount, transfer.asset, decimals)} to ${transfer.to}`;
  switch (transfer.status) {
    case 'confirmed':
      return `Sent ${what}: confirmed on chain (${transfer.tier} tier). Transfer ${transfer.id}, signature ${transfer.signature}.`;
    case 'delayed':
      return `${what} is delayed: it will be sent after ${transfer.executeAfter} unless the owner cancels it. Transfer ${transfer.id}; follow it with get_transfer.`;
    case 'pending_approval':
      return `${what} waits for the owner's approval${transfer.expiresAt ? ` (it expires at ${transfer.expiresAt})` : ''}. Transfer ${transfer.id}; follow it with get_transfer.`;
    case 'received':
    case 'signing':
    case 'submitted':
      return `${what} is on its way (${transfer.status}). Transfer ${transfer.id}; follow it with get_transfer.`;
    default:
      return `${what} ended ${transfer.status}${transfer.error ? `: ${transfer.error.message} [${transfer.error.code}]` : ''}. Transfer ${transfer.id}.`;
  }
}
