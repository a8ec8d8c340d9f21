/**
 * Replaces the agent key; the vault, so the wallet's address, stays. Each step is recorded before the
 * next, so a repeated call after a failure picks up where it stopped and never makes a third key:
 *   1. a new key born in the enclave (bound to the same wallet, owner and multisig), kept sealed
 *      with the act, which records old and new key;
 *   2. the policy in force handed to the enclave again (a no-op unless it restarted without it);
 *   3. chain, one owner transaction: the new member added before the old one is removed (the
 *      threshold of 2 holds throughout), the spending limits moved to the new key carrying what the
 *      period spent (config-change.ts);
 *   4. in one database transaction the new key becomes the wallet's active key (the one transfers
 *      are signed with) and the old one is retired; then the enclave drops the old key and refuses
 *      it from then on.
 * Until step 4 the transfer pipeline keeps signing with the old key, which is the member until step 3.
 * A frozen wallet is refused: resume it first (with its existing key), then rotate.
 */
import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import type { SealedAgentKey } from '../../enclave/agent-keys.ts';
import { assertRotatable, spendingLimitSpecsFromPolicy } from '../../squads/index.ts';
import { activeAgentKeys, type Owner, type Wallet } from '../../store/index.ts';
import { insertOwnerAct, latestOwnerAct, updateOwnerAct } from '../../store/owner-acts.ts';
import { switchAgentKey } from '../../store/wallet-acts.ts';
import type { Runtime } from '../runtime/runtime.ts';
import {
  agentMembers,
  assertSettled,
  assertUnlockOffered,
  type LayerOutcome,
  newActId,
  oneActAtATime,
  ownersWallet,
  policyInForce,
  readWalletConfig,
} from './common.ts';
import { limitFacts, sendConfigChange } from './config-change.ts';
import { ownerActor, recordAct } from './record.ts';

export interface RotateAgentKeyParams {
  readonly owner: Owner;
  readonly walletId: string;
  readonly unlock: string | undefined;
}

export interface RotateAgentKeyResult {
  readonly walletId: string;
  /** Unchanged by a rotation. */
  readonly vault: string;
  readonly oldAgentPublicKey: string;
  readonly agentPublicKey: string;
  readonly chain: LayerOutcome;
  /** The old key retired in the enclave and the store. */
  readonly retired: boolean;
}

interface ValidatedRotation {
  readonly owner: Owner;
  readonly wallet: Wallet;
  readonly unlock: string | undefined;
}

export async function validateRotateAgentKey(
  runtime: Runtime,
  params: RotateAgentKeyParams,
): Promise<ValidatedRotation> {
  const wallet = await ownersWallet(runtime, params.owner, params.walletId);
  assertSettled(wallet);
  if (wallet.status === 'frozen') {
    throw new WaiaasError('WALLET_FROZEN', {
      message: 'A frozen wallet is not rotated: resume it first, then rotate its agent key.',
      details: { walletId: wallet.id },
    });
  }
  assertUnlockOffered(runtime, params.owner, params.unlock);
  return { owner: params.owner, wallet, unlock: params.unlock };
}

interface Rotation {
  readonly actId: string;
  readonly oldAgent: string;
  readonly newAgent: string;
  readonly sealed: SealedAgentKey;
}

/**
 * The rotation in flight (a repeated call), its new key loaded into the enclave again in case it
 * restarted since; or a new key and the act recording it. The sealed new key lives with the act until
 * the chain has made it the member: only then does it become the wallet's active key, the one the
 * transfer pipeline signs with.
 */
async function startRotation(
  runtime: Runtime,
  owner: Owner,
  wallet: Wallet,
  onChainAgent: string,
): Promise<Rotation> {
  const previous = await latestOwnerAct(runtime.store.db, wallet.id, 'rotate_agent_key');
  if (previous?.status === 'pending') {
    const { oldAgent, newAgent, sealed } = previous.detail as Omit<Rotation, 'actId'>;
    if (onChainAgent === oldAgent || onChainAgent === newAgent) {
      const loaded = await runtime.signers.useFor(wallet.id, (client) => client.loadAgentKeys([sealed]));
      const failed = loaded.failed[0];
      if (failed !== undefined) {
        throw new WaiaasError('CONFLICT', {
          message: 'The enclave does not take the new agent key of the rotation in flight.',
          details: { walletId: wallet.id, newAgent, reason: failed.code },
        });
      }
      return { actId: previous.id, oldAgent, newAgent, sealed };
    }
  }
  const active = await activeAgentKeys(runtime.store.db, wallet.id);
  if (!active.some((key) => key.publicKey === onChainAgent)) {
    throw new WaiaasError('CONFLICT', {
      message: 'The agent member on chain is not an active agent key of this wallet.',
      details: { walletId: wallet.id, member: onChainAgent },
    });
  }
  const sealed = await runtime.signers.useFor(wallet.id, (client) =>
    client.createAgentKey(wallet.id, owner.publicKey, wallet.multisig),
  );
  const act = await insertOwnerAct(runtime.store.db, {
    id: newActId(),
    walletId: wallet.id,
    kind: 'rotate_agent_key',
    detail: { oldAgent: onChainAgent, newAgent: sealed.publicKey, sealed },
  });
  return { actId: act.id, oldAgent: onChainAgent, newAgent: sealed.publicKey, sealed };
}

/**
 * In one transaction: the new key active, the old one retired (a repeat finds the new one there), and
 * the rotation in the audit log and the owner's webhooks.
 */
async function switchAgentKeys(
  runtime: Runtime,
  owner: Owner,
  walletId: string,
  rotation: Rotation,
  chain: LayerOutcome,
  limits: ReturnType<typeof limitFacts>,
): Promise<void> {
  await runtime.store.writeTransaction(async (trx) => {
    const repeated = await switchAgentKey(trx, walletId, {
      oldPublicKey: rotation.oldAgent,
      newPublicKey: rotation.newAgent,
      newSealed: JSON.stringify(rotation.sealed),
    });
    // A repeat after a crash finds the switch committed, with its record.
    if (repeated) return;
    const keys = { oldAgentPublicKey: rotation.oldAgent, agentPublicKey: rotation.newAgent };
    await recordAct(trx, {
      kind: 'owner.rotate',
      actor: ownerActor(owner),
      walletId,
      subject: rotation.actId,
      details: { ...keys, chain: chain.status, signature: chain.signature ?? null, limits },
      event: { type: 'wallet.agent_rotated', data: { ...keys, signature: chain.signature ?? null } },
    });
  });
}

export async function executeRotateAgentKey(
  runtime: Runtime,
  validated: ValidatedRotation,
): Promise<RotateAgentKeyResult> {
  const { owner } = validated;
  return oneActAtATime(runtime, validated.wallet.id, () =>
    runtime.ownerKeys.of(owner).withUnlock(validated.unlock, async (ownerSigner) => {
      const wallet = await ownersWallet(runtime, owner, validated.wallet.id);
      if (wallet.status !== 'active') {
        throw new WaiaasError('WALLET_FROZEN', { details: { walletId: wallet.id, status: wallet.status } });
      }
      const ownerKey = new PublicKey(owner.publicKey);
      const current = await readWalletConfig(runtime, wallet);
      const [onChainAgent, ...others] = agentMembers(current, ownerKey);
      if (onChainAgent === undefined || others.length > 0) {
        throw new WaiaasError('CONFLICT', {
          message: 'The multisig does not have exactly one agent member; resume or repair it first.',
          details: { walletId: wallet.id, agents: [onChainAgent, ...others].map(String) },
        });
      }
      const rotation = await startRotation(runtime, owner, wallet, onChainAgent.toBase58());
      const inForce = policyInForce(wallet);
      await runtime.signers.useFor(wallet.id, (client) => client.setPolicy(inForce.bundle));

      const limits = spendingLimitSpecsFromPolicy(inForce.policy);
      const newAgent = new PublicKey(rotation.newAgent);
      const change = await sendConfigChange(runtime, ownerSigner, {
        wallet,
        owner: ownerKey,
        actId: rotation.actId,
        policyAssets: inForce.policy.assets.keys(),
        target: () => ({ agent: newAgent, limits }),
        // Already swapped on chain (a repeated call): only the limits are made the new key's.
        check: (current) => {
          const [member] = agentMembers(current, ownerKey);
          if (!member?.equals(newAgent)) {
            assertRotatable({ current, owner: ownerKey, oldAgent: member ?? onChainAgent, newAgent });
          }
        },
      });
      const chain: LayerOutcome = {
        status: change.status,
        ...(change.signature ? { signature: change.signature } : {}),
      };

      await switchAgentKeys(runtime, owner, wallet.id, rotation, chain, limitFacts(change.limits));
      await runtime.signers.useFor(wallet.id, (client) =>
        client.retireAgentKey(wallet.id, rotation.oldAgent),
      );
      await updateOwnerAct(runtime.store.db, rotation.actId, {
        status: 'done',
        signature: chain.signature ?? null,
      });
      return {
        walletId: wallet.id,
        vault: wallet.vault,
        oldAgentPublicKey: rotation.oldAgent,
        agentPublicKey: rotation.newAgent,
        chain,
        retired: true,
      };
    }),
  );
}

export async function rotateAgentKey(
  runtime: Runtime,
  params: RotateAgentKeyParams,
): Promise<RotateAgentKeyResult> {
  return executeRotateAgentKey(runtime, await validateRotateAgentKey(runtime, params));
}
