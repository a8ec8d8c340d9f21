/** send and dry_run_send: UI amounts in, exact base units through the SDK's parseUnits, refusals explained. */
import {
  InvalidAmountError,
  NotFoundError,
  PolicyRefusedError,
  parseUnits,
  type Tier,
  type Transfer,
  WaiaasApiError,
} from '../../sdk/index.ts';
import type { AgentWallet } from '../agent-wallet.ts';
import { assetLimitsText, hoursText, recipientsText } from '../describe-policy.ts';
import { estimateTransfer } from '../estimate.ts';
import { explainRefusal, type RefusedRequest } from '../explain-refusal.ts';
import { amountText, assetLabel, type Decimals, decimalsOf, SOL_ASSET } from '../units.ts';
import {
  BASE58_ADDRESS,
  type DescriptionContext,
  failure,
  type JsonSchemaObject,
  stringArg,
  type Tool,
  ToolInputError,
  text,
} from './tool.ts';

const TIER_MEANING: Record<Tier, string> = {
  instant: 'sent at once',
  notify: 'sent at once, with the owner notified',
  delay: 'held for the policy delay (the owner may cancel), then sent',
  approval: 'held until the owner approves it',
};

const transferSchema = (withKey: boolean): JsonSchemaObject => ({
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

const limitsSummary = ({ policy, decimals }: DescriptionContext): string => {
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

interface ParsedRequest extends RefusedRequest {
  memo: string | undefined;
}

async function parseRequest(
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
async function refusal(error: unknown, wallet: AgentWallet, request: RefusedRequest, decimals: Decimals) {
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

export const send: Tool = {
  name: 'send',
  title: 'Send SOL or a token',
  readOnly: false,
  description: (context) =>
    [
      'Send SOL or an SPL token from your wallet. `amount` is in UI units ("0.25" means 0.25 SOL), converted exactly to base units.',
      limitsSummary(context),
      "Larger amounts wait (delay tier) or need the owner's approval; anything over the per-transaction limit or what is left of today's budget is refused with the reason and what would pass.",
      'Call get_budget for what is left now, or dry_run_send to check first.',
    ].join(' '),
  inputSchema: transferSchema(true),
  async run(args, wallet) {
    let parsed: Awaited<ReturnType<typeof parseRequest>>;
    try {
      parsed = await parseRequest(args, wallet);
    } catch (error) {
      return refusal(error, wallet, { to: '', asset: SOL_ASSET, amount: 0n }, new Map());
    }
    const { request, decimals } = parsed;
    const idempotencyKey = stringArg(args, 'idempotency_key', { max: 128, pattern: /^[\x21-\x7e]+$/ });
    try {
      const sent = await wallet.client.transfers.send(wallet.walletId, {
        to: request.to,
        amount: request.amount,
        ...(request.asset === SOL_ASSET ? {} : { mint: request.asset }),
        ...(request.memo === undefined ? {} : { memo: request.memo }),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      return text(transferText(sent, decimals), `Idempotency key: ${sent.idempotencyKey}`);
    } catch (error) {
      return refusal(error, wallet, request, decimals);
    }
  },
};

const isMissingRoute = (error: unknown): boolean =>
  error instanceof NotFoundError && /^No route /.test(error.detail);

export const dryRunSend: Tool = {
  name: 'dry_run_send',
  title: 'Check a transfer without sending',
  readOnly: true,
  description: (context) =>
    [
      'Check what `send` would do with these arguments (its tier, or why it would be refused and what would pass); nothing is sent or reserved.',
      limitsSummary(context),
    ].join(' '),
  inputSchema: transferSchema(false),
  async run(args, wallet) {
    let parsed: Awaited<ReturnType<typeof parseRequest>>;
    try {
      parsed = await parseRequest(args, wallet);
    } catch (error) {
      return refusal(error, wallet, { to: '', asset: SOL_ASSET, amount: 0n }, new Map());
    }
    const { request, decimals } = parsed;
    const what = `${amountText(request.amount, request.asset, decimals)} to ${request.to}`;
    try {
      const result = await wallet.client.transfers.dryRun(wallet.walletId, {
        to: request.to,
        amount: request.amount,
        ...(request.asset === SOL_ASSET ? {} : { mint: request.asset }),
        ...(request.memo === undefined ? {} : { memo: request.memo }),
      });
      if (result.allowed && result.tier)
        return text(`${what} would be ${result.tier} tier: ${TIER_MEANING[result.tier]}.`);
      const code = result.code ?? 'ENCLAVE_REFUSED';
      const error = new PolicyRefusedError({
        code,
        status: 403,
        title: code,
        detail: code,
        retryable: false,
        layer: (result.layer as 'server') ?? 'server',
      });
      return refusal(error, wallet, request, decimals);
    } catch (error) {
      if (!isMissingRoute(error)) return refusal(error, wallet, request, decimals);
    }
    // The daemon has no dry-run endpoint yet: read the same rules from the policy and the budget.
    const { policy, budget, decimals: known } = await wallet.budget();
    const estimate = estimateTransfer(policy, budget, request);
    const note =
      '(Estimated from the policy and the current budget; the rate limit is checked only when sending.)';
    if (estimate.ok)
      return text(`${what} would be ${estimate.tier} tier: ${TIER_MEANING[estimate.tier]}. ${note}`);
    const error = new PolicyRefusedError({
      code: estimate.code,
      status: 403,
      title: estimate.code,
      detail: estimate.code,
      retryable: false,
      layer: 'server',
    });
    const explained = explainRefusal(error, { policy, budget, decimals: known, request });
    return failure(`Would be refused. ${explained} ${note}`);
  },
};
