/**
 * Undoes a freeze, chain first so that any failure leaves the wallet frozen everywhere else:
 *   1. chain: the agent member back, threshold 2, the policy's spending limits added anew with no
 *      more left than the freeze recorded (a period that ended meanwhile: at most the full daily);
 *   2. enclave: the policy the wallet was frozen with (or a new one the owner sends) at the next
 *      version, signed by the owner;
 *   3. server: wallets.status = active with that policy, unless another freeze arrived meanwhile.
 * On an active wallet it only reconciles the chain with the policy in force (nothing, usually).
 */
import { PublicKey } from '@solana/web3.js';
import { isWaiaasError, WaiaasError } from '../../core/errors.ts';
import { type PolicyDocument, signPolicyBundle, toPolicy } from '../../core/policy.ts';
import { spendingLimitSpecsFromPolicy } from '../../squads/index.ts';
import { activeAgentKeys, type Owner, type Wallet } from '../../store/index.ts';
import { countOwnerActs, insertOwnerAct, latestOwnerAct, updateOwnerAct } from '../../store/owner-acts.ts';
import { settleResume } from '../../store/wallet-acts.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { validatePolicyInput } from '../wallets/create-wallet.ts';
import {
  assertNewerPolicy,
  assertSettled,
  assertUnlockOffered,
  isPolicyInForce,
  type LayerOutcome,
  newActId,
  oneActAtATime,
  ownersWallet,
  policyInForce,
} from './common.ts';
import { limitFacts, sendConfigChange } from './config-change.ts';
import { ownerActor, recordAct } from './record.ts';

export interface ResumeParams {
  readonly owner: Owner;
  readonly walletId: string;
  readonly unlock: string | undefined;
  /** A new policy to resume with, instead of the one in force before the freeze. */
  readonly policy?: unknown;
}

export interface ResumeResult {
  readonly walletId: string;
  readonly status: 'active';
  readonly agentPublicKey: string;
  readonly policyVersion: number;
  readonly chain: LayerOutcome;
  readonly enclave: LayerOutcome;
}

interface ValidatedResume {
  readonly owner: Owner;
  readonly wallet: Wallet;
  readonly unlock: string | undefined;
  readonly requested: PolicyDocument | undefined;
}

export async function validateResume(runtime: Runtime, params: ResumeParams): Promise<ValidatedResume> {
  const wallet = await ownersWallet(runtime, params.owner, params.walletId);
  assertSettled(wallet);
  const requested = params.policy === undefined ? undefined : validatePolicyInput(params.policy);
  if (requested) assertNewerPolicy(requested, wallet);
  assertUnlockOffered(runtime, params.owner, params.unlock);
  return { owner: params.owner, wallet, unlock: params.unlock, requested };
}

/** The policy to resume with; the same document on a repeated call, so a retry signs nothing new. */
async function policyToResumeWith(runtime: Runtime, wallet: Wallet, requested?: PolicyDocument) {
  if (requested) return requested;
  const inForce = policyInForce(wallet);
  if (wallet.status !== 'frozen') return inForce.document;
  const freeze = await latestOwnerAct(runtime.store.db, wallet.id, 'freeze');
  const restore = freeze?.detail.restorePolicy as PolicyDocument | undefined;
  // Blocked on the server without an owner freeze (nothing was kept): the policy in force still holds.
  if (restore === undefined) return inForce.document;
  return { ...restore, version: inForce.document.version + 1 };
}

export async function executeResume(runtime: Runtime, validated: ValidatedResume): Promise<ResumeResult> {
  const { owner } = validated;
  return oneActAtATime(runtime, validated.wallet.id, () =>
    runtime.ownerKeys.of(owner).withUnlock(validated.unlock, async (ownerSigner) => {
      const wallet = await ownersWallet(runtime, owner, validated.wallet.id);
      assertSettled(wallet);
      const freezesBefore = await countOwnerActs(runtime.store.db, wallet.id, 'freeze');
      const inForce = policyInForce(wallet);
      const document = await policyToResumeWith(runtime, wallet, validated.requested);
      // The newest active key, as the transfer pipeline signs with (one, outside a rotation's last step).
      const agentKey = (await activeAgentKeys(runtime.store.db, wallet.id)).at(-1);
      if (agentKey === undefined) {
        throw new WaiaasError('CONFLICT', { message: 'The wallet has no active agent key.' });
      }
      const agent = new PublicKey(agentKey.publicKey);

      const specs = spendingLimitSpecsFromPolicy(toPolicy(document));
      // Recorded before the chain step: the step records each asset's spending period with it.
      const act = await insertOwnerAct(runtime.store.db, {
        id: newActId(),
        walletId: wallet.id,
        kind: 'resume',
        status: 'pending',
        detail: { policyVersion: document.version, agent: agent.toBase58() },
      });
      const fail = async (error: unknown) => {
        await updateOwnerAct(runtime.store.db, act.id, {
          status: 'failed',
          errorCode: isWaiaasError(error) ? error.code : 'INTERNAL',
        });
        return error;
      };
      let change: Awaited<ReturnType<typeof sendConfigChange>>;
      try {
        change = await sendConfigChange(runtime, ownerSigner, {
          wallet,
          owner: new PublicKey(owner.publicKey),
          actId: act.id,
          policyAssets: Object.keys(document.assets),
          target: () => ({ agent, limits: specs }),
        });
      } catch (error) {
        throw await fail(error);
      }
      const chain: LayerOutcome = {
        status: change.status,
        ...(change.signature ? { signature: change.signature } : {}),
      };
      const limits = limitFacts(change.limits);

      const unchangedPolicy = isPolicyInForce(document, inForce);
      let bundleText = wallet.policyBundle;
      if (!unchangedPolicy) {
        try {
          const bundle = await signPolicyBundle(wallet.id, document, ownerSigner);
          await runtime.signers.useFor(wallet.id, (client) => client.setPolicy(bundle));
          bundleText = JSON.stringify(bundle);
        } catch (error) {
          await fail(error);
          if (!(error instanceof WaiaasError)) throw error;
          throw new WaiaasError(error.code, {
            message: `${error.message} The chain part of resume is done; the wallet stays frozen until the enclave takes the policy: repeat the call.`,
            details: { ...error.details, chain },
            ...(error.layer ? { layer: error.layer } : {}),
            cause: error,
          });
        }
      }

      const resumed = await runtime.store.writeTransaction(async (trx) => {
        // A freeze that came in meanwhile wins: it blocked the server first and is queued behind us.
        // The policy is stored either way, so the database says what the enclave holds and that
        // freeze supersedes it.
        const refrozen = (await countOwnerActs(trx, wallet.id, 'freeze')) !== freezesBefore;
        await settleResume(trx, wallet.id, {
          policyBundle: bundleText,
          policyVersion: document.version,
          stayFrozen: refrozen,
        });
        await updateOwnerAct(trx, act.id, {
          status: refrozen ? 'failed' : 'done',
          signature: chain.signature ?? null,
          errorCode: refrozen ? 'CONFLICT' : null,
        });
        if (refrozen) return false;
        const detail = {
          policyVersion: document.version,
          agent: agent.toBase58(),
          signature: chain.signature ?? null,
        };
        await recordAct(trx, {
          kind: 'owner.resume',
          actor: ownerActor(owner),
          walletId: wallet.id,
          subject: act.id,
          details: { ...detail, wasFrozen: wallet.status === 'frozen', chain: chain.status, limits },
          event:
            wallet.status === 'frozen'
              ? {
                  type: 'wallet.resumed',
                  data: { policyVersion: document.version, agentPublicKey: detail.agent, limits },
                }
              : undefined,
        });
        return true;
      });
      if (!resumed) {
        throw new WaiaasError('CONFLICT', {
          message: 'The wallet was frozen again while it was being resumed; it stays frozen.',
          details: { walletId: wallet.id },
        });
      }
      return {
        walletId: wallet.id,
        status: 'active' as const,
        agentPublicKey: agent.toBase58(),
        policyVersion: document.version,
        chain,
        enclave: unchangedPolicy ? { status: 'unchanged' as const } : { status: 'done' as const },
      };
    }),
  );
}

export async function resumeWallet(runtime: Runtime, params: ResumeParams): Promise<ResumeResult> {
  return executeResume(runtime, await validateResume(runtime, params));
}
