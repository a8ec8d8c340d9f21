/**
 * A new policy, signed by the owner, in force at every layer:
 *   1. enclave: the owner-signed bundle (the enclave itself refuses a version not above its own);
 *   2. server: wallets.policy_bundle / policy_version, so L1 and the enclave's reload after a restart
 *      agree with the enclave;
 *   3. chain, one config-authority transaction: limits whose amount and destinations did not change
 *      stay (with today's usage); the others are removed and added anew carrying what the period
 *      spent (config-change.ts): a tightening leaves `new daily − spent`, a raise by X adds X.
 * A failed chain step answers pending; repeating the same call (same version, same document) redoes
 * only that step. A frozen wallet takes its new policy when it is resumed (POST …/resume {policy}).
 */
import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import { type PolicyDocument, policyHashHex, signPolicyBundle, toPolicy } from '../../core/policy.ts';
import { assertLimitsReplaceable, spendingLimitSpecsFromPolicy } from '../../squads/index.ts';
import { type Owner, setWalletPolicy, type Wallet } from '../../store/index.ts';
import { insertOwnerAct, updateOwnerAct } from '../../store/owner-acts.ts';
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
  pendingOutcome,
  policyInForce,
  soleAgent,
} from './common.ts';
import { limitFacts, sendConfigChange } from './config-change.ts';
import { outcomeFacts, ownerActor, recordAct } from './record.ts';

export interface ChangePolicyParams {
  readonly owner: Owner;
  readonly walletId: string;
  readonly unlock: string | undefined;
  readonly policy: unknown;
}

export interface ChangePolicyResult {
  readonly walletId: string;
  readonly policyVersion: number;
  readonly policy: PolicyDocument;
  readonly enclave: LayerOutcome;
  readonly chain: LayerOutcome;
}

interface ValidatedPolicyChange {
  readonly owner: Owner;
  readonly wallet: Wallet;
  readonly unlock: string | undefined;
  readonly document: PolicyDocument;
}

const assertNotFrozen = (wallet: Wallet) => {
  if (wallet.status === 'frozen') {
    throw new WaiaasError('WALLET_FROZEN', {
      message: 'The wallet is frozen: resume it with the new policy (POST /v1/wallets/:id/resume {policy}).',
      details: { walletId: wallet.id },
    });
  }
};

export async function validateChangePolicy(
  runtime: Runtime,
  params: ChangePolicyParams,
): Promise<ValidatedPolicyChange> {
  const wallet = await ownersWallet(runtime, params.owner, params.walletId);
  assertSettled(wallet);
  assertNotFrozen(wallet);
  const document = validatePolicyInput(params.policy);
  assertNewerPolicy(document, wallet);
  assertUnlockOffered(runtime, params.owner, params.unlock);
  return { owner: params.owner, wallet, unlock: params.unlock, document };
}

export async function executeChangePolicy(
  runtime: Runtime,
  validated: ValidatedPolicyChange,
): Promise<ChangePolicyResult> {
  const { owner, document } = validated;
  return oneActAtATime(runtime, validated.wallet.id, () =>
    runtime.ownerKeys.of(owner).withUnlock(validated.unlock, async (ownerSigner) => {
      // Again under the wallet's turn: another act may have changed it since validation.
      const wallet = await ownersWallet(runtime, owner, validated.wallet.id);
      assertNotFrozen(wallet);
      assertNewerPolicy(document, wallet);
      const inForce = policyInForce(wallet);
      const repeat = isPolicyInForce(document, inForce);

      let enclave: LayerOutcome;
      if (repeat) {
        // The enclave may have restarted without it; handing it over again changes nothing otherwise.
        await runtime.signers.useFor(wallet.id, (client) => client.setPolicy(inForce.bundle));
        enclave = { status: 'unchanged' };
      } else {
        const bundle = await signPolicyBundle(wallet.id, document, ownerSigner);
        await runtime.signers.useFor(wallet.id, (client) => client.setPolicy(bundle));
        await runtime.store.writeTransaction(async (trx) => {
          await setWalletPolicy(trx, wallet.id, JSON.stringify(bundle), document.version);
          await recordAct(trx, {
            kind: 'policy.changed',
            actor: ownerActor(owner),
            walletId: wallet.id,
            details: {
              step: 'enclave+server',
              version: document.version,
              previousVersion: inForce.document.version,
              policyHash: policyHashHex(document),
            },
          });
        });
        enclave = { status: 'done' };
      }

      const ownerKey = new PublicKey(owner.publicKey);
      const specs = spendingLimitSpecsFromPolicy(toPolicy(document));
      // Recorded before the chain step: the step records each asset's spending period with it.
      const act = await insertOwnerAct(runtime.store.db, {
        id: newActId(),
        walletId: wallet.id,
        kind: 'policy',
        status: 'pending',
        detail: { policyVersion: document.version },
      });
      let chain: LayerOutcome;
      let limits: ReturnType<typeof limitFacts> = [];
      try {
        const change = await sendConfigChange(runtime, ownerSigner, {
          wallet,
          owner: ownerKey,
          actId: act.id,
          policyAssets: Object.keys(document.assets),
          target: (current) => ({ agent: soleAgent(current, ownerKey, wallet.id), limits: specs }),
          check: (current) =>
            assertLimitsReplaceable({ current, agent: soleAgent(current, ownerKey, wallet.id) }),
        });
        limits = limitFacts(change.limits);
        chain = { status: change.status, ...(change.signature ? { signature: change.signature } : {}) };
      } catch (error) {
        chain = pendingOutcome(error);
      }
      await runtime.store.writeTransaction(async (trx) => {
        await updateOwnerAct(trx, act.id, {
          status: chain.status === 'pending' ? 'pending' : 'done',
          signature: chain.signature ?? null,
          errorCode: chain.error?.code ?? null,
        });
        // The on-chain limits are the worst case if everything off-chain fails: their change is recorded too.
        if (chain.status === 'unchanged') return;
        await recordAct(trx, {
          kind: 'policy.changed',
          actor: ownerActor(owner),
          walletId: wallet.id,
          subject: act.id,
          details: { step: 'chain', version: document.version, chain: outcomeFacts(chain), limits },
        });
      });
      return { walletId: wallet.id, policyVersion: document.version, policy: document, enclave, chain };
    }),
  );
}

export async function changePolicy(
  runtime: Runtime,
  params: ChangePolicyParams,
): Promise<ChangePolicyResult> {
  return executeChangePolicy(runtime, await validateChangePolicy(runtime, params));
}
