/**
 * What the owner, as config authority, changes on a wallet in one transaction: its members, its
 * threshold and the agent's spending limits. The instructions move the current on-chain state to a
 * target state and skip what already matches, so a repeated act (after a crash, say) does only
 * what is left. Order matters to the program, which checks its invariants after every instruction:
 * members are added before others are removed, the threshold is lowered before a removal and
 * raised after an addition.
 */
import type { PublicKey, TransactionInstruction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { WaiaasError } from '../../core/errors.ts';
import { assertSpendingLimitSpecs, limitMintOf, type SpendingLimitSpec } from '../assets.ts';
import { spendingLimitAddress } from '../pdas.ts';
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
  removeSpendingLimitInstruction,
} from '../spending-limit-instructions.ts';
import { assertDistinct } from '../validate.ts';
import type { MultisigState, SpendingLimitState } from '../wallet-state.ts';

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

export interface WalletConfigParams {
  readonly current: CurrentWalletConfig;
  readonly target: TargetWalletConfig;
  readonly owner: PublicKey;
  /** Pays rent for added members and limits. */
  readonly rentPayer: PublicKey;
  /** Receives the rent of removed limits. */
  readonly rentCollector: PublicKey;
}

const programId = SQUADS_PROGRAM_ID;

const sameKeys = (a: readonly PublicKey[], b: readonly PublicKey[]): boolean => {
  const left = a.map((key) => key.toBase58()).sort();
  const right = b.map((key) => key.toBase58()).sort();
  return left.length === right.length && left.every((key, index) => key === right[index]);
};

/** Whether the limit on chain is exactly the agent's limit for `spec` (then it keeps its usage). */
const limitMatches = (
  limit: SpendingLimitState,
  multisigPda: PublicKey,
  agent: PublicKey,
  spec: SpendingLimitSpec,
): boolean =>
  limit.address.equals(spendingLimitAddress(multisigPda, spec.asset)) &&
  limitMintOf(limit.asset).equals(limitMintOf(spec.asset)) &&
  limit.vaultIndex === WALLET_VAULT_INDEX &&
  limit.amount === spec.amount &&
  limit.period === Period.Day &&
  sameKeys(limit.members, [agent]) &&
  sameKeys(limit.destinations, spec.destinations);

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

function limitInstructions(params: WalletConfigParams): TransactionInstruction[] {
  const { current, target, owner } = params;
  const multisigPda = current.multisig.address;
  const agent = target.agent;
  const kept = (limit: SpendingLimitState) =>
    agent !== null && target.limits.some((spec) => limitMatches(limit, multisigPda, agent, spec));
  const removals = current.spendingLimits
    .filter((limit) => !kept(limit))
    .map((limit) =>
      removeSpendingLimitInstruction({
        multisig: multisigPda,
        owner,
        spendingLimit: limit.address,
        rentCollector: params.rentCollector,
      }),
    );
  if (agent === null) return removals;
  const additions = target.limits
    .filter(
      (spec) =>
        !current.spendingLimits.some((limit) => kept(limit) && limitMatches(limit, multisigPda, agent, spec)),
    )
    .map((limit) =>
      addAgentSpendingLimitInstruction({
        multisig: multisigPda,
        owner,
        agent,
        rentPayer: params.rentPayer,
        limit,
      }),
    );
  return [...removals, ...additions];
}

/**
 * The instructions that take the wallet from `current` to `target`; empty when it is there already.
 * Spending limits that already match are left alone, so their usage in the current period stays;
 * any other limit is removed and, if wanted, added anew (which starts a fresh period).
 */
export function walletConfigInstructions(params: WalletConfigParams): TransactionInstruction[] {
  assertOwnerIsConfigAuthority(params.current.multisig, params.owner);
  if (params.target.agent) assertDistinct({ owner: params.owner, agent: params.target.agent });
  if (params.target.agent === null && params.target.limits.length > 0) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'A frozen wallet has no spending limits',
      details: {},
    });
  }
  assertSpendingLimitSpecs(params.target.limits);
  return [...memberInstructions(params), ...limitInstructions(params)];
}
