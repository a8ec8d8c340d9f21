/**
 * The agent's one wallet as the MCP tools see it, through the SDK only: the policy (kept a few seconds
 * so listing tools does not hammer the daemon), balances, usage and each token's decimals.
 */
import type { Balance, CallOptions, Policy, Usage, WaiaasClient } from '../sdk/index.ts';
import { type Budget, budgetOf } from './budget.ts';
import type { Decimals } from './units.ts';

const POLICY_TTL_MS = 5_000;

export class AgentWallet {
  readonly client: WaiaasClient;
  readonly walletId: string;
  #policy: { value: Policy; at: number } | undefined;
  #decimals = new Map<string, number>();

  constructor(client: WaiaasClient, walletId: string) {
    this.client = client;
    this.walletId = walletId;
  }

  async policy(fresh = false, call?: CallOptions): Promise<Policy> {
    if (!fresh && this.#policy && Date.now() - this.#policy.at < POLICY_TTL_MS) return this.#policy.value;
    const { policy } = await this.client.policy.get(this.walletId, call);
    this.#policy = { value: policy, at: Date.now() };
    return policy;
  }

  async balance(call?: CallOptions): Promise<Balance> {
    const balance = await this.client.balance(this.walletId, call);
    for (const token of balance.tokens)
      if (token.decimals !== null) this.#decimals.set(token.mint, token.decimals);
    return balance;
  }

  usage(): Promise<Usage> {
    return this.client.usage(this.walletId);
  }

  /** Decimals of every token the policy names (read from the chain through the balance endpoint once). */
  async decimals(policy?: Policy, call?: CallOptions): Promise<Decimals> {
    const mints = Object.keys((policy ?? (await this.policy(false, call))).assets).filter(
      (asset) => asset !== 'SOL',
    );
    if (mints.some((mint) => !this.#decimals.has(mint))) await this.balance(call);
    return this.#decimals;
  }

  async budget(): Promise<{ policy: Policy; usage: Usage; budget: Budget; decimals: Decimals }> {
    const [policy, usage] = await Promise.all([this.policy(true), this.usage()]);
    return { policy, usage, budget: budgetOf(policy, usage), decimals: await this.decimals(policy) };
  }
}
