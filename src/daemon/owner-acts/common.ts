/**
 * What every owner-key act shares: finding the owner's wallet, the cheap second-factor presence check
 * done before any state changes, the policy in force, the wallet's configuration as the chain holds
 * it, one act at a time per wallet, and how a layer's outcome is reported.
 */
import { randomBytes } from 'node:crypto';
import { PublicKey, type VersionedTransaction } from '@solana/web3.js';
import { isWaiaasError, WaiaasError } from '../../core/errors.ts';
import {
  type PolicyBundle,
  type PolicyDocument,
  policyBundleSchema,
  policyHashHex,
  toPolicy,
} from '../../core/policy.ts';
import type { Policy } from '../../core/policy-types.ts';
import type { OwnerSigner } from '../../keys/types.ts';
import type { CurrentWalletConfig } from '../../squads/index.ts';
import { readMultisig, readSpendingLimits } from '../../squads/index.ts';
import { findWallet, type Owner, type Wallet } from '../../store/index.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { signSendConfirm } from '../wallets/send-signed.ts';

/** How one layer (enclave, chain) took an act: done now, already so, or still to do (retry the same call). */
export interface LayerOutcome {
  readonly status: 'done' | 'unchanged' | 'pending';
  /** The transaction that did it, for the chain. */
  readonly signature?: string;
  /** Why it is pending. */
  readonly error?: { readonly code: string; readonly message: string };
}

export const pendingOutcome = (error: unknown): LayerOutcome => ({
  status: 'pending',
  error: isWaiaasError(error)
    ? { code: error.code, message: error.message }
    : { code: 'INTERNAL', message: 'Internal error' },
});

/**
 * The chain part of an owner act: build the config-authority transaction against a fresh blockhash
 * (null when the chain is already in the target state), sign as fee payer and owner, send, confirm.
 * A failure leaves the act pending rather than undone: the same call retries it.
 */
export async function ownerChainStep(
  runtime: Runtime,
  ownerSigner: OwnerSigner,
  build: (recentBlockhash: string) => Promise<VersionedTransaction | null> | VersionedTransaction | null,
): Promise<LayerOutcome> {
  try {
    const { blockhash, lastValidBlockHeight } = await runtime.chain.recentBlockhash();
    const transaction = await build(blockhash);
    if (transaction === null) return { status: 'unchanged' };
    const signature = await signSendConfirm(
      runtime.chain,
      transaction,
      lastValidBlockHeight,
      [runtime.feePayer],
      ownerSigner,
    );
    return { status: 'done', signature };
  } catch (error) {
    return pendingOutcome(error);
  }
}

export const newActId = (): string => `act_${randomBytes(12).toString('base64url')}`;

/** The owner's wallet `walletId`, or NOT_FOUND for anyone else's (ids of others are not confirmed). */
export async function ownersWallet(runtime: Runtime, owner: Owner, walletId: string): Promise<Wallet> {
  const wallet = await findWallet(runtime.store.db, walletId);
  if (wallet === undefined || wallet.ownerId !== owner.id) {
    throw new WaiaasError('NOT_FOUND', { message: `No wallet ${walletId}.` });
  }
  return wallet;
}

/** Only live or frozen wallets take owner acts; one still being created (or failed) does not. */
export function assertSettled(wallet: Wallet): void {
  if (wallet.status !== 'active' && wallet.status !== 'frozen') {
    throw new WaiaasError('CONFLICT', {
      message: `The wallet is ${wallet.status}; owner acts need an active or frozen wallet.`,
      details: { status: wallet.status },
    });
  }
}

/**
 * OWNER_UNLOCK_REQUIRED before anything changes when no second factor came with a key that needs one
 * (and no unlock window is open). Whether the factor is right is only known when it is used.
 */
export function assertUnlockOffered(runtime: Runtime, owner: Owner, unlock: string | undefined): void {
  // Wrong factors back off per owner (runtime/unlock-throttle.ts): refused here, before any change,
  // when this replica knows the owner must wait; the count itself is checked where the factor is used.
  runtime.ownerKeys.assertNotThrottled(owner);
  const protection = runtime.ownerKeys.of(owner).protection();
  if (protection.secondFactor === 'none' || protection.unlockedUntil !== undefined) return;
  if (unlock === undefined || unlock === '') {
    throw new WaiaasError('OWNER_UNLOCK_REQUIRED', { details: { secondFactor: protection.secondFactor } });
  }
}

export interface PolicyInForce {
  readonly bundle: PolicyBundle;
  readonly document: PolicyDocument;
  readonly policy: Policy;
  readonly hash: string;
}

export function policyInForce(wallet: Wallet): PolicyInForce {
  const bundle = policyBundleSchema.parse(JSON.parse(wallet.policyBundle));
  return {
    bundle,
    document: bundle.policy,
    policy: toPolicy(bundle.policy),
    hash: policyHashHex(bundle.policy),
  };
}

/** Whether `document` is the policy in force: the same version of the same document (by its hash). */
export const isPolicyInForce = (document: PolicyDocument, inForce: PolicyInForce): boolean =>
  document.version === inForce.document.version && policyHashHex(document) === inForce.hash;

/** A policy must be newer than the one in force, unless it is that very policy (a repeated call). */
export function assertNewerPolicy(requested: PolicyDocument, wallet: Wallet): void {
  const inForce = policyInForce(wallet);
  if (requested.version <= inForce.document.version && !isPolicyInForce(requested, inForce)) {
    throw new WaiaasError('POLICY_VERSION_NOT_NEWER', {
      layer: 'server',
      details: { walletId: wallet.id, version: requested.version, current: inForce.document.version },
    });
  }
}

export async function readWalletConfig(runtime: Runtime, wallet: Wallet): Promise<CurrentWalletConfig> {
  const multisig = new PublicKey(wallet.multisig);
  const [state, spendingLimits] = await Promise.all([
    readMultisig(runtime.chain.connection, multisig),
    readSpendingLimits(runtime.chain.connection, multisig),
  ]);
  return { multisig: state, spendingLimits };
}

/** The members of the multisig other than the owner: the agent, or none on a frozen wallet. */
export const agentMembers = (config: CurrentWalletConfig, owner: PublicKey): PublicKey[] =>
  config.multisig.members.filter((member) => !member.key.equals(owner)).map((member) => member.key);

/** The one agent member of the multisig; CONFLICT when there is none (frozen) or more than one. */
export function soleAgent(config: CurrentWalletConfig, owner: PublicKey, walletId: string): PublicKey {
  const [agent, ...others] = agentMembers(config, owner);
  if (agent === undefined || others.length > 0) {
    throw new WaiaasError('CONFLICT', {
      message: 'The multisig does not have exactly one agent member.',
      details: { walletId, agents: [agent, ...others].map(String) },
    });
  }
  return agent;
}

/**
 * Runs `act` holding the wallet's multisig lock (runtime.multisigLocks), the one approval proposals
 * take too: two acts never build from the same chain state, on this replica or another, and no
 * proposal is built while an act changes the members it would be voted by.
 */
export function oneActAtATime<T>(runtime: Runtime, walletId: string, act: () => Promise<T>): Promise<T> {
  return runtime.multisigLocks.run(walletId, act);
}
