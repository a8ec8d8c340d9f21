/**
 * pay_for_url: fetch a URL, paying it with x402 when it answers 402 Payment Required. The
 * description carries the wallet's x402 limits; amounts in UI units of the token, converted exactly.
 */
import {
  type Policy,
  parseUnits,
  WaiaasApiError,
  WaiaasNetworkError,
  type X402PayResult,
} from '../../sdk/index.ts';
import { amountText, assetLabel, type Decimals } from '../units.ts';
import { type DescriptionContext, failure, stringArg, type Tool, ToolInputError, text } from './tool.ts';
import { refusal } from './transfer-request.ts';

const MAX_BODY_CHARS = 20_000;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const x402Assets = (policy: Policy | undefined): string[] =>
  Object.entries(policy?.assets ?? {})
    .filter(([, limits]) => limits.x402 !== undefined)
    .map(([asset]) => asset);

/** The x402 rules of the policy, in words. */
export function x402LimitsText({ policy, decimals }: DescriptionContext): string {
  if (!policy) return 'Call get_policy for your limits.';
  const lines = x402Assets(policy).map((asset) => {
    const limits = policy.assets[asset]!;
    const amount = (value: bigint) => amountText(value, asset, decimals);
    const payees = limits.x402!.payees;
    return [
      `${assetLabel(asset)}: at most ${amount(limits.x402!.perPayment)} per payment`,
      payees ? `only to ${payees.join(', ')}` : 'to any payee your recipients rule allows',
      limits.float
        ? `float up to ${amount(limits.float.max)}`
        : 'no float (facilitators that take only plain transfers cannot be paid)',
      `${amount(limits.daily)} per rolling day, shared with sends`,
    ].join('; ');
  });
  if (lines.length === 0)
    return 'No token of your policy allows x402 payments: only free URLs can be fetched.';
  return `Your x402 limits (policy version ${policy.version}): ${lines.join('. ')}.`;
}

function resultText(result: X402PayResult, asset: string, decimals: Decimals): string {
  const body =
    result.body.length > MAX_BODY_CHARS
      ? `${result.body.slice(0, MAX_BODY_CHARS)}… (${result.body.length - MAX_BODY_CHARS} more characters)`
      : result.body;
  const answer = `The resource answered ${result.status}${result.contentType ? ` (${result.contentType})` : ''}${
    result.bodyEncoding === 'base64' ? ', body in base64' : ''
  }:\n${body}`;
  const payment = result.payment;
  if (!payment) return `The resource asked for no payment; nothing was paid. ${answer}`;
  const paidAsset = payment.asset ?? asset;
  const from =
    payment.path === 'vault'
      ? 'from the vault, under the on-chain daily limit'
      : `from your float${payment.fill ? ` (filled first with ${amountText(payment.fill.amount, paidAsset, decimals)} from the vault)` : ''}`;
  return [
    `Paid ${amountText(payment.amount, paidAsset, decimals)} to ${payment.payTo} ${from}. Transaction ${payment.transaction}; transfer ${payment.transferId}.`,
    answer,
  ].join('\n');
}

export const payForUrl: Tool = {
  name: 'pay_for_url',
  title: 'Fetch a URL, paying it with x402 if it asks',
  readOnly: false,
  description: (context) =>
    [
      'Fetch an http(s) URL for you. If it answers 402 Payment Required (the x402 protocol), the wallet pays the price it asks in a token your policy allows and fetches it again; you get the response.',
      '`max_amount` (UI units of the token, e.g. "0.50") is the most this call may pay; a higher price is refused and nothing is paid.',
      x402LimitsText(context),
      'Payments count against the same daily budget as send (get_budget). A refusal says which layer refused and why.',
    ].join(' '),
  inputSchema: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'The http(s) URL of the resource.' },
      max_amount: {
        type: 'string',
        pattern: '^[0-9]*\\.?[0-9]+$',
        description: 'The most to pay, in UI units of the token (e.g. "0.50").',
      },
      asset: {
        type: 'string',
        description: 'The token mint, when your policy allows x402 in more than one token.',
      },
      method: { type: 'string', enum: [...METHODS], default: 'GET' },
      body: { type: 'string', description: 'Request body, sent as it is (e.g. JSON text).' },
      headers: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Extra request headers (e.g. content-type).',
      },
    },
    required: ['url', 'max_amount'],
    additionalProperties: false,
  },
  async run(args, wallet) {
    let asset = '';
    let decimals: Decimals = new Map();
    let maxAmount = 0n;
    try {
      const url = stringArg(args, 'url', { required: true, max: 2048 });
      const maxText = stringArg(args, 'max_amount', { required: true, max: 64 });
      const method = stringArg(args, 'method') ?? 'GET';
      if (!(METHODS as readonly string[]).includes(method))
        throw new ToolInputError(`"method" must be one of ${METHODS.join(', ')}.`);
      const body = stringArg(args, 'body', { max: 256 * 1024 });
      const headers = args['headers'];
      if (
        headers !== undefined &&
        (typeof headers !== 'object' ||
          headers === null ||
          Object.values(headers).some((value) => typeof value !== 'string'))
      )
        throw new ToolInputError('"headers" must be an object of strings.');
      const policy = await wallet.policy();
      const enabled = x402Assets(policy);
      asset = stringArg(args, 'asset', { pattern: /^[1-9A-HJ-NP-Za-km-z]{32,44}$/ }) ?? enabled[0] ?? '';
      if (asset === '' || !enabled.includes(asset))
        throw new ToolInputError(
          enabled.length === 0
            ? 'Your policy allows x402 payments in no token. Ask the owner to add x402 limits.'
            : `x402 payments are allowed only in ${enabled.map(assetLabel).join(', ')}.`,
        );
      if (enabled.length > 1 && args['asset'] === undefined)
        throw new ToolInputError(
          `Name the token with "asset": x402 is allowed in ${enabled.map(assetLabel).join(', ')}.`,
        );
      decimals = await wallet.decimals(policy);
      const places = decimals.get(asset);
      if (places === undefined) throw new ToolInputError(`The decimals of ${assetLabel(asset)} are unknown.`);
      maxAmount = parseUnits(maxText, places);
      if (maxAmount <= 0n) throw new ToolInputError('"max_amount" must be more than zero.');
      const result = await wallet.client.x402.pay(wallet.walletId, {
        url,
        method: method as (typeof METHODS)[number],
        ...(headers === undefined ? {} : { headers: headers as Record<string, string> }),
        ...(body === undefined ? {} : { body }),
        maxAmount,
      });
      return text(resultText(result, asset, decimals));
    } catch (error) {
      if (
        error instanceof WaiaasNetworkError ||
        (error instanceof WaiaasApiError && error.status >= 500 && error.code !== 'X402_PAYMENT_FAILED')
      ) {
        return failure(
          `The daemon did not confirm the payment (${error.message}). It may or may not have been made: check list_transfers before paying again.`,
        );
      }
      return refusal(error, wallet, { asset, amount: maxAmount, to: '' }, decimals);
    }
  },
};
