/** What a dry run answers: the decision, each layer's own verdict, and the budget left to plan with. */
import type { PolicyLayer } from '../../core/errors.ts';
import type { Tier } from '../../core/policy.ts';

export type LayerName = PolicyLayer;

export const LAYERS: readonly LayerName[] = ['server', 'enclave', 'chain'];

export interface LayerVerdict {
  /** False when the layer was not asked (see `reason`) or could not be. */
  readonly checked: boolean;
  /** Null when not checked. */
  readonly allowed: boolean | null;
  readonly tier?: Tier;
  /** The refusal, or why the layer could not be checked. */
  readonly code?: string;
  readonly title?: string;
  readonly action?: string;
  readonly details?: Record<string, string | number>;
  /** The counters or figures the verdict was reached with. */
  readonly basis?: Record<string, string | number | null>;
  /** When those figures were read (cached layers may be up to about a second old). */
  readonly asOf?: string;
  readonly notes: string[];
}

export interface TierRange {
  readonly tier: Tier;
  /** The amounts (base units) that get this tier: from … to, inclusive; null `to` when the tier is empty. */
  readonly from: string;
  readonly to: string | null;
  /**
   * The largest amount of this tier every checked layer would pass now (per-transaction cap, what is
   * left of the daily budget at each layer, the vault's balance); null when none would.
   */
  readonly upTo: string | null;
}

export interface DryRunBudget {
  readonly asset: string;
  /** Null when the policy in force does not name the asset. */
  readonly perTransaction: string | null;
  readonly daily: string | null;
  readonly windowSeconds: number;
  /** What is left of `daily` at each layer (null where not known), and the least of them. */
  readonly remaining: {
    readonly server: string | null;
    readonly enclave: string | null;
    readonly chain: string | null;
    readonly effective: string | null;
  };
  /** What the vault holds of the asset, when the chain was read. */
  readonly balance: string | null;
  readonly tiers: TierRange[];
  readonly delaySeconds: number | null;
  readonly rate: {
    readonly maxPerHour: number;
    readonly windowSeconds: number;
    /** Transfers counted in the rate window (server), and how many more fit. */
    readonly used: number;
    readonly remaining: number;
  };
  readonly hours: { readonly utc: [number, number]; readonly days: number[]; readonly allowedNow: boolean };
}

export interface DryRunResult {
  readonly walletId: string;
  readonly asset: string;
  readonly amount: string;
  readonly to: string;
  /** Whether every checked layer would pass it now. */
  readonly allowed: boolean;
  readonly tier?: Tier;
  /** Delay tier: seconds before it would be signed. */
  readonly delaySeconds?: number;
  /** The first refusal, in the order the real transfer meets the layers (server, enclave, chain). */
  readonly code?: string;
  readonly layer?: LayerName;
  readonly title?: string;
  readonly action?: string;
  readonly layers: Record<LayerName, LayerVerdict>;
  readonly budget: DryRunBudget;
  readonly evaluatedAt: string;
}
