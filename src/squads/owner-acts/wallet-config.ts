/**
 * What the owner, as config authority, changes on a wallet in one transaction: its members, its
 * threshold and the agent's spending limits. The instructions move the current on-chain state to a
 * target state and skip what already matches, so a repeated act (after a crash, say) does only
 * what is left. Order matters to the program, which checks its invariants after every instruction:
 * members are added before others are removed, the threshold is lowered before a removal and
 * raised after an addition.
 *
 * A limit that is re-created carries what its period already spent (budget-carry.ts), so no act
 * leaves the agent more on chain than `daily in force − spent this period`.
 */
import type { PublicKey, TransactionInstruction, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { WaiaasError } from '../../core/errors.ts';
import {
  assertSpendingLimitSpecs,
  assetLabel,
  limitMintOf,
  type SpendingLimitSpec,
  type TokenAsset,
  type TransferAsset,
} from '../assets.ts';
import { packTransactions, type TransactionEnvelope } from '../compile.ts';
import { spendingLimitAddress, vaultAddress } from '../pdas.ts';
import {
  AGENT_PERMISSIONS,
  FROZEN_THRESHOLD,
  OWNER_PERMISSIONS,
  Period,
  SQUADS_PROGRAM_ID,
  WALLET_THRESHOLD,
  WALLET_VAULT_INDEX,
} from '../program.ts';
import {
  addAgentSpendingLimitInstruction,
  agentLimitShape,
  removeSpendingLimitInstruction,
} from '../spending-limit-instructions.ts';
import { assertDistinct } from '../validate.ts';
import type { MultisigState, SpendingLimitState } from '../wallet-state.ts';
import {
  atMost,
  type LimitBudget,
  type PeriodRecord,
  remainingInPeriod,
  spentThisPeriod,
  vaultSelfUses,
} from './budget-carry.ts';

export interface CurrentWalletConfig {
  readonly multisig: MultisigState;
  /** Every spending limit of the multisig on chain (readSpendingLimits). */
  readonly spendingLimits: readonly SpendingLimitState[];
}

export interface TargetWalletConfig {
  /** The agent member, or null for a frozen wallet (owner alone, threshold 1, no limits). */
  readonly agent: PublicKey | null;
  readonly limits: readonly SpendingLimitSpec[];
}

/** What the act needs to carry today's spending into the limits it re-creates. */
export interface BudgetContext {
  /** The cluster's unix time the act is built at: spent and remaining are counted at it. */
  readonly chainTime: bigint;
  /** The vault's balance per asset ("SOL" or the mint), which bounds each self-use. */
  readonly balances: ReadonlyMap<string, bigint>;
  /** Decimals and token program per limited mint; a token without them is never self-used. */
  readonly tokens: ReadonlyMap<string, TokenAsset>;
  /** Per asset, what earlier acts recorded of its periods (oldest first): see spentThisPeriod. */
  readonly records: ReadonlyMap<string, readonly PeriodRecord[]>;
}

export interface WalletConfigParams {
  readonly current: CurrentWalletConfig;
  readonly target: TargetWalletConfig;
  readonly owner: PublicKey;
  /** Pays rent for added members and limits. */
  readonly rentPayer: PublicKey;
  /** Receives the rent of removed limits, and becomes the multisig's rent collector if it is not. */
  readonly rentCollector: PublicKey;
  readonly budget: BudgetContext;
}

/** What an act does to the agent's limit for one asset. */
export interface LimitPlan {
  /** "SOL" or the mint. */
  readonly asset: string;
  /**
   * keep: left as it is (with its period); create: added, anew or again, carrying `carried`;
   * withheld: removed or absent and not added, because the carry could not be made (the vault holds
   * too little of the asset to use the limit to itself): the next act after the period adds it;
   * remove: no longer wanted.
   */
  readonly action: 'keep' | 'create' | 'withheld' | 'remove';
  /** The limit's amount per day after the act (0 when there is none). */
  readonly amount: bigint;
  /** What the current period had spent before the act (carried into a re-created limit). */
  readonly spent: bigint;
  /** When that period started (cluster seconds; the act's own time when nothing was spent in one in force). */
  readonly periodStart: bigint;
  /** What the agent may still spend in the current period after the act. */
  readonly remaining: bigint;
  /** The old limit was used for its exact remaining amount first, so a racing spend fails the act. */
  readonly pinned: boolean;
  /** The agent's limit on chain before the act, if there was one. */
  readonly before: LimitBudget | undefined;
}

export interface WalletConfigPlan {
  /** Every instruction, in order: what one transaction carries when it fits. */
  readonly instructions: TransactionInstruction[];
  /**
   * The same instructions as groups that must each land whole (the member changes; each asset's
   * pin, removal, re-creation and carry), in order: what several transactions carry when one cannot.
   * Between two of them the wallet is never looser than before the act.
   */
  readonly groups: readonly (readonly TransactionInstruction[])[];
  readonly limits: readonly LimitPlan[];
}

const programId = SQUADS_PROGRAM_ID;

const keySet = (keys: readonly PublicKey[]): string =>
  keys
    .map((key) => key.toBase58())
    .sort()
    .join(',');

const sameKeys = (a: readonly PublicKey[], b: readonly PublicKey[]): boolean => keySet(a) === keySet(b);

const isAgentLimit = (limit: SpendingLimitState, multisigPda: PublicKey): boolean =>
  limit.address.equals(spendingLimitAddress(multisigPda, limit.asset));

/**
 * Whether the limit on chain is the agent's limit for `spec` as it should be (then it stays, with its
 * period): the shape we create (agent and owner, destinations with the vault), or the one wallets
 * made before it had (agent alone, the policy's destinations).
 */
const limitMatches = (
  limit: SpendingLimitState,
  multisigPda: PublicKey,
  agent: PublicKey,
  owner: PublicKey,
  spec: SpendingLimitSpec,
): boolean => {
  if (
    !limit.address.equals(spendingLimitAddress(multisigPda, spec.asset)) ||
    !limitMintOf(limit.asset).equals(limitMintOf(spec.asset)) ||
    limit.vaultIndex !== WALLET_VAULT_INDEX ||
    limit.amount !== spec.amount ||
    limit.period !== Period.Day
  ) {
    return false;
  }
  const shape = agentLimitShape({ multisig: multisigPda, owner, agent, limit: spec });
  const current = sameKeys(limit.members, shape.members) && sameKeys(limit.destinations, shape.destinations);
  const legacy = sameKeys(limit.members, [agent]) && sameKeys(limit.destinations, spec.destinations);
  return current || legacy;
};

export function assertOwnerIsConfigAuthority(state: MultisigState, owner: PublicKey): void {
  if (!state.configAuthority.equals(owner)) {
    throw new WaiaasError('FORBIDDEN', {
      message: 'The owner key is not the config authority of this multisig',
      details: { multisig: state.address.toBase58(), configAuthority: state.configAuthority.toBase58() },
    });
  }
}

function memberInstructions(params: WalletConfigParams): TransactionInstruction[] {
  const { current, target, owner, rentPayer } = params;
  const state = current.multisig;
  const common = { multisigPda: state.address, configAuthority: owner, programId };
  const wanted = [
    { key: owner, permissions: OWNER_PERMISSIONS },
    ...(target.agent ? [{ key: target.agent, permissions: AGENT_PERMISSIONS }] : []),
  ];
  const currentMask = (key: PublicKey) => state.members.find((member) => member.key.equals(key))?.mask;
  const absent = wanted.filter((member) => currentMask(member.key) === undefined);
  const wrongPermissions = wanted.filter((member) => {
    const mask = currentMask(member.key);
    return mask !== undefined && mask !== member.permissions.mask;
  });
  const unwanted = state.members.filter((member) => !wanted.some((w) => w.key.equals(member.key)));
  const removed = [...unwanted.map((member) => member.key), ...wrongPermissions.map((member) => member.key)];

  const targetThreshold = target.agent ? WALLET_THRESHOLD : FROZEN_THRESHOLD;
  const votersDuringRemoval = wanted.filter(
    (member) =>
      !wrongPermissions.includes(member) &&
      multisig.types.Permissions.has(member.permissions, multisig.types.Permission.Vote),
  ).length;
  const lowered = Math.min(state.threshold, targetThreshold, Math.max(votersDuringRemoval, 1));
  const changeThreshold = (newThreshold: number) =>
    multisig.instructions.multisigChangeThreshold({ ...common, rentPayer, newThreshold });
  const addMember = (member: (typeof wanted)[number]) =>
    multisig.instructions.multisigAddMember({ ...common, rentPayer, newMember: member });

  return [
    ...absent.map(addMember),
    ...(lowered < state.threshold ? [changeThreshold(lowered)] : []),
    ...removed.map((oldMember) => multisig.instructions.multisigRemoveMember({ ...common, oldMember })),
    ...wrongPermissions.map(addMember),
    ...(targetThreshold !== lowered ? [changeThreshold(targetThreshold)] : []),
  ];
}

/** The asset as a self-use needs it, or undefined for a token whose facts are unknown. */
const transferAssetOf = (label: string, budget: BudgetContext): TransferAsset | undefined =>
  label === 'SOL' ? 'SOL' : budget.tokens.get(label);

/** The owner's vault-to-vault use of the whole remaining amount, before the limit is removed. */
function pinInstructions(
  params: WalletConfigParams,
  limit: SpendingLimitState,
): TransactionInstruction[] | undefined {
  const { owner, budget } = params;
  const multisigPda = params.current.multisig.address;
  const vault = vaultAddress(multisigPda);
  const label = assetLabel(limit.asset);
  const asset = transferAssetOf(label, budget);
  const reachesVault =
    limit.destinations.length === 0 || limit.destinations.some((destination) => destination.equals(vault));
  if (asset === undefined || !reachesVault || !limit.members.some((member) => member.equals(owner))) {
    return undefined;
  }
  const remaining = remainingInPeriod(limit, budget.chainTime);
  if (remaining === 0n) return undefined;
  return vaultSelfUses({
    multisig: multisigPda,
    owner,
    spendingLimit: limit.address,
    asset,
    amount: remaining,
    vaultBalance: budget.balances.get(label) ?? 0n,
  });
}

function limitPlan(params: WalletConfigParams): WalletConfigPlan {
  const { current, target, owner, budget } = params;
  const multisigPda = current.multisig.address;
  const agent = target.agent;
  const agentLimits = new Map(
    current.spendingLimits
      .filter((limit) => isAgentLimit(limit, multisigPda))
      .map((limit) => [assetLabel(limit.asset), limit] as const),
  );
  const kept = (limit: SpendingLimitState) =>
    agent !== null && target.limits.some((spec) => limitMatches(limit, multisigPda, agent, owner, spec));

  // One group per asset of the agent's limit (its pin, removal, re-creation and carry must land
  // together), one per other limit removed.
  const groups = new Map<string, TransactionInstruction[]>();
  const groupOf = (key: string) => {
    const group = groups.get(key) ?? [];
    groups.set(key, group);
    return group;
  };
  const pinned = new Set<string>();
  for (const limit of current.spendingLimits) {
    if (kept(limit)) continue;
    const agentLimit = isAgentLimit(limit, multisigPda);
    const group = groupOf(agentLimit ? assetLabel(limit.asset) : limit.address.toBase58());
    if (agentLimit) {
      const pin = pinInstructions(params, limit);
      if (pin !== undefined) {
        group.push(...pin);
        pinned.add(assetLabel(limit.asset));
      }
    }
    group.push(
      removeSpendingLimitInstruction({
        multisig: multisigPda,
        owner,
        spendingLimit: limit.address,
        rentCollector: params.rentCollector,
      }),
    );
  }

  const plans: LimitPlan[] = [];
  const periodOf = (label: string, limit: LimitBudget | undefined) =>
    spentThisPeriod(limit, budget.records.get(label) ?? [], budget.chainTime);
  const wantedAssets = new Set(agent === null ? [] : target.limits.map((spec) => assetLabel(spec.asset)));
  for (const [label, limit] of agentLimits) {
    if (wantedAssets.has(label)) continue;
    plans.push({
      asset: label,
      action: 'remove',
      amount: 0n,
      ...periodOf(label, limit),
      remaining: 0n,
      pinned: pinned.has(label),
      before: limit,
    });
  }
  if (agent !== null) {
    for (const spec of target.limits) {
      const label = assetLabel(spec.asset);
      const before = agentLimits.get(label);
      const period = periodOf(label, before);
      if (before !== undefined && kept(before)) {
        plans.push({
          asset: label,
          action: 'keep',
          amount: spec.amount,
          ...period,
          remaining: remainingInPeriod(before, budget.chainTime),
          pinned: false,
          before,
        });
        continue;
      }
      const carried = atMost(period.spent, spec.amount);
      const asset = transferAssetOf(label, budget);
      const carry =
        carried === 0n
          ? []
          : asset === undefined
            ? undefined
            : vaultSelfUses({
                multisig: multisigPda,
                owner,
                spendingLimit: spendingLimitAddress(multisigPda, spec.asset),
                asset,
                amount: carried,
                vaultBalance: budget.balances.get(label) ?? 0n,
              });
      const common = { asset: label, ...period, pinned: pinned.has(label), before };
      if (carry === undefined) {
        plans.push({ ...common, action: 'withheld', amount: 0n, remaining: 0n });
        continue;
      }
      groupOf(label).push(
        addAgentSpendingLimitInstruction({
          multisig: multisigPda,
          owner,
          agent,
          rentPayer: params.rentPayer,
          limit: spec,
        }),
        ...carry,
      );
      plans.push({ ...common, action: 'create', amount: spec.amount, remaining: spec.amount - carried });
    }
  }
  const grouped = [...groups.values()].filter((group) => group.length > 0);
  return { instructions: grouped.flat(), groups: grouped, limits: plans };
}

/** The multisig's rent collector made `rentCollector` (closed proposals pay their rent back to it). */
function rentCollectorInstructions(params: WalletConfigParams): TransactionInstruction[] {
  const state = params.current.multisig;
  if (state.rentCollector?.equals(params.rentCollector)) return [];
  return [
    multisig.instructions.multisigSetRentCollector({
      multisigPda: state.address,
      configAuthority: params.owner,
      newRentCollector: params.rentCollector,
      rentPayer: params.rentPayer,
      programId,
    }),
  ];
}

/**
 * The instructions that take the wallet from `current` to `target`, and what they do to each of the
 * agent's limits; no instructions when it is there already. Limits that already match are left alone,
 * so their period goes on; any other is removed and, if wanted, added again carrying what its period
 * had spent.
 */
export function planWalletConfig(params: WalletConfigParams): WalletConfigPlan {
  assertOwnerIsConfigAuthority(params.current.multisig, params.owner);
  if (params.target.agent) assertDistinct({ owner: params.owner, agent: params.target.agent });
  if (params.target.agent === null && params.target.limits.length > 0) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'A frozen wallet has no spending limits',
      details: {},
    });
  }
  assertSpendingLimitSpecs(params.target.limits);
  const limits = limitPlan(params);
  const members = memberInstructions(params);
  if (members.length === 0 && limits.instructions.length === 0) {
    return { instructions: [], groups: [], limits: limits.limits };
  }
  // The rent collector is set along with a change, never as a change of its own.
  const head = [...rentCollectorInstructions(params), ...members];
  const groups = [...(head.length > 0 ? [head] : []), ...limits.groups];
  return { instructions: groups.flat(), groups, limits: limits.limits };
}

/**
 * The plan as transactions to send in order: one when it fits a packet, else as few as fit, each
 * group whole. Empty when there is nothing to change.
 */
export function walletConfigTransactions(
  envelope: TransactionEnvelope,
  plan: Pick<WalletConfigPlan, 'groups'>,
): VersionedTransaction[] {
  return plan.groups.length === 0 ? [] : packTransactions(envelope, [], plan.groups);
}

export function walletConfigInstructions(params: WalletConfigParams): TransactionInstruction[] {
  return planWalletConfig(params).instructions;
}
