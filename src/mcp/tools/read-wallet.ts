/** Tools that read the wallet: balance, policy, budget, deposit address. */
import { policyText } from '../describe-policy.ts';
import { amountText, assetLabel } from '../units.ts';
import { json, type Tool, text } from './tool.ts';

const noInput = { type: 'object', properties: {}, additionalProperties: false } as const;

export const getBalance: Tool = {
  name: 'get_balance',
  title: 'Wallet balance',
  readOnly: true,
  description: () =>
    "The wallet's balances as the chain holds them: SOL and each token the policy names, in UI units.",
  inputSchema: noInput,
  async run(_args, wallet) {
    const balance = await wallet.balance();
    const decimals = await wallet.decimals();
    const lines = [`The vault ${balance.vault} holds ${amountText(balance.sol, 'SOL', decimals)}.`];
    for (const token of balance.tokens) {
      lines.push(
        token.exists
          ? `It holds ${amountText(token.amount, token.mint, decimals)} (token account ${token.account}).`
          : `It holds no ${assetLabel(token.mint)} (no token account yet).`,
      );
    }
    return text(...lines);
  },
};

export const getPolicy: Tool = {
  name: 'get_policy',
  title: 'Spending policy',
  readOnly: true,
  description: () =>
    "The owner's spending policy for this wallet: per-transfer and daily limits per asset, tiers (instant, notify, delay, owner approval), allowed recipients, hours and rate.",
  inputSchema: noInput,
  async run(_args, wallet) {
    const policy = await wallet.policy(true);
    return text(policyText(policy, await wallet.decimals(policy)));
  },
};

export const getBudget: Tool = {
  name: 'get_budget',
  title: 'Remaining budget',
  readOnly: true,
  description: () =>
    'What you can still send now, per asset: left of the rolling daily budget, and the largest transfer that would be instant, that needs no approval, and that the owner could approve.',
  inputSchema: noInput,
  async run(_args, wallet) {
    const { budget, usage, decimals } = await wallet.budget();
    const lines: string[] = [];
    if (budget.walletStatus !== 'active') {
      lines.push(`The wallet is ${budget.walletStatus}: nothing can be sent until the owner resumes it.`);
    }
    const hours = Math.round(budget.windowSeconds / 360) / 10;
    for (const asset of budget.assets) {
      const amount = (value: bigint) => amountText(value, asset.asset, decimals);
      const parts = [
        `${assetLabel(asset.asset)}: ${amount(asset.remainingToday)} left of ${amount(asset.limits.daily)} in the rolling ${hours} h window (spent ${amount(asset.spentToday)})`,
        `now up to ${amount(asset.largestInstant)} instant`,
        `up to ${amount(asset.largestWithoutApproval)} without the owner's approval`,
      ];
      if (asset.limits.perTransaction > asset.limits.tiers.delayMax) {
        parts.push(
          `up to ${amount(asset.largestWithApproval)} with the owner's approval (not counted in the daily budget)`,
        );
      }
      lines.push(`${parts.join('; ')}.`);
    }
    lines.push(`Rate: at most ${budget.maxPerHour} transfers per hour.`);
    const layers = usage.assets.map((asset) => ({
      asset: asset.asset,
      remaining: {
        server: asset.server.remaining,
        enclave: asset.enclave?.remaining ?? null,
        chain: asset.chain?.remaining ?? null,
      },
    }));
    lines.push('', 'Remaining per layer, base units:', json(layers));
    return text(...lines);
  },
};

export const getDepositAddress: Tool = {
  name: 'get_deposit_address',
  title: 'Deposit address',
  readOnly: true,
  description: () =>
    "The wallet's address to receive SOL or tokens (its Squads vault). Anyone may deposit here; only the policy decides what leaves.",
  inputSchema: noInput,
  async run(_args, wallet) {
    const address = await wallet.client.depositAddress(wallet.walletId);
    return text(`Deposit address: ${address}`);
  },
};
