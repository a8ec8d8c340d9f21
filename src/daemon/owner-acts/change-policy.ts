/**
 * A new policy, signed by the owner, in force at every layer:
 *   1. enclave: the owner-signed bundle (the enclave itself refuses a version not above its own);
 *   2. server: wallets.policy_bundle / policy_version, so L1 and the enclave's reload after a restart
 *      agree with the enclave;
 *   3. chain, one config-authority transaction: limits whose amount and destinations did not change
 *      stay (with today's usage); the others are removed and added anew.
 * A failed chain step answers pending; repeating the same call (same version, same document) redoes
 * only that step. A frozen wallet takes its new policy when it is resumed (POST …/resume {policy}).
 */
import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import { type PolicyDocument, policyHashHex, signPolicyBundle, toPolicy } from '../../core/policy.ts';
import { buildReplaceLimits, spendingLimitSpecsFromPolicy } from '../../squads/index.ts';
import { type Owner, setWalletPolicy, type Wallet } from '../../store/index.ts';
import { insertOwnerAct } from '../../store/owner-acts.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { validatePolicyInput } from '../wallets/create-wallet.ts';
import {
  agentMembers,
  assertNewerPolicy,
  assertSettled,
  assertUnlockOffered,
  type LayerOutcome,
  newActId,
  oneActAtATime,
  ownerChainStep,
  ownersWallet,
  policyInForce,
  readWalletConfig,
} from './common.ts';
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
  return oneActAtATime(validated.wallet.id, () =>
    runtime.ownerKeys.of(owner).withUnlock(validated.unlock, async (ownerSigner) => {
      // Again under the wallet's turn: another act may have changed it since validation.
      const wallet = await ownersWallet(runtime, owner, validated.wallet.id);
      assertNotFrozen(wallet);
      assertNewerPolicy(document, wallet);
      const inForce = policyInForce(wallet);
      const repeat =
        document.version === inForce.document.version && policyHashHex(document) === inForce.hash;

      let enclave: LayerOutcome;
      if (repeat) {
        // The enclave may have restarted without it; handing it over again changes nothing otherwise.
        await runtime.enclave.use((client) => client.setPolicy(inForce.bundle));
        enclave = { status: 'unchanged' };
      } else {
        const bundle = await signPolicyBundle(wallet.id, document, ownerSigner);
        await runtime.enclave.use((client) => client.setPolicy(bundle));
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

      const chain = await ownerChainStep(runtime, ownerSigner, async (recentBlockhash) => {
        const ownerKey = new PublicKey(owner.publicKey);
        const current = await readWalletConfig(runtime, wallet);
        const [agent, ...others] = agentMembers(current, ownerKey);
        if (agent === undefined || others.length > 0) {
          throw new WaiaasError('CONFLICT', {
            message: 'The multisig does not have exactly one agent member.',
            details: { walletId: wallet.id },
          });
        }
        return buildReplaceLimits({
          current,
          owner: ownerKey,
          agent,
          limits: spendingLimitSpecsFromPolicy(toPolicy(document)),
          feePayer: runtime.feePayer.publicKey,
          recentBlockhash,
        });
      });
      await runtime.store.writeTransaction(async (trx) => {
        const act = await insertOwnerAct(trx, {
          id: newActId(),
          walletId: wallet.id,
          kind: 'policy',
          status: chain.status === 'pending' ? 'pending' : 'done',
          detail: { policyVersion: document.version },
          signature: chain.signature ?? null,
        });
        // The on-chain limits are the worst case if everything off-chain fails: their change is recorded too.
        if (chain.status === 'unchanged') return;
        await recordAct(trx, {
          kind: 'policy.changed',
          actor: ownerActor(owner),
          walletId: wallet.id,
          subject: act.id,
          details: { step: 'chain', version: document.version, chain: outcomeFacts(chain) },
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
