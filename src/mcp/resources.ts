/** MCP resources: the wallet's status and its policy, as text a model reads and JSON a client parses. */
import type { AgentWallet } from './agent-wallet.ts';
import { policyText } from './describe-policy.ts';
import { json } from './tools/tool.ts';
import { amountText } from './units.ts';

export interface ResourceDefinition {
  uri: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
}

export interface ResourceContents {
  uri: string;
  mimeType: string;
  text: string;
}

interface Resource extends ResourceDefinition {
  read(wallet: AgentWallet): Promise<string>;
}

const walletStatus: Resource = {
  uri: 'waiaas://wallet/status',
  name: 'wallet-status',
  title: 'Wallet status',
  description:
    "The wallet's state (active or frozen), deposit address, balances and what is left of today's budget.",
  mimeType: 'text/plain',
  async read(wallet) {
    const [{ usage, budget, decimals }, balance] = await Promise.all([wallet.budget(), wallet.balance()]);
    const lines = [
      `Wallet ${wallet.walletId} is ${usage.status} (policy version ${usage.policyVersion}).`,
      `Deposit address (vault): ${balance.vault}`,
      `Balance: ${amountText(balance.sol, 'SOL', decimals)}${balance.tokens
        .map((token) => `, ${amountText(token.amount, token.mint, decimals)}`)
        .join('')}.`,
      ...budget.assets.map(
        (asset) =>
          `Left today: ${amountText(asset.remainingToday, asset.asset, decimals)} of ${amountText(asset.limits.daily, asset.asset, decimals)}; instant now up to ${amountText(asset.largestInstant, asset.asset, decimals)}.`,
      ),
      '',
      json({ walletId: wallet.walletId, status: usage.status, balance, usage }),
    ];
    return lines.join('\n');
  },
};

const walletPolicy: Resource = {
  uri: 'waiaas://wallet/policy',
  name: 'wallet-policy',
  title: 'Wallet policy',
  description:
    "The owner's signed spending policy in force: limits per asset in UI units, then the document in base units.",
  mimeType: 'text/plain',
  async read(wallet) {
    const signed = await wallet.client.policy.get(wallet.walletId);
    const decimals = await wallet.decimals(signed.policy);
    return [policyText(signed.policy, decimals), '', json(signed)].join('\n');
  },
};

export const resources: readonly Resource[] = [walletStatus, walletPolicy];

export async function readResource(uri: string, wallet: AgentWallet): Promise<ResourceContents | undefined> {
  const resource = resources.find((candidate) => candidate.uri === uri);
  if (!resource) return undefined;
  return { uri, mimeType: resource.mimeType, text: await resource.read(wallet) };
}
