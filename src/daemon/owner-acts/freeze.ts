/**
 * The kill switch. Ordered so that the agent is stopped as early as possible and a failure anywhere
 * leaves the wallet stopped (fail closed):
 *   1. server (milliseconds, no second factor used yet): wallets.status = frozen and every transfer not
 *      yet signing is cancelled, in one database transaction;
 *   2. enclave: the owner signs a "frozen" policy, the policy in force with no assets at the next
 *      version, so L2 refuses every transfer whatever the host asks and even after a restart;
 *   3. chain: one owner transaction removing every spending limit, lowering the threshold to 1 and
 *      removing the agent member. What each limit's period had spent is recorded with the act first
 *      (config-change.ts), and the owner pins each limit at what it had left, so resume gives back no
 *      more than that.
 * Steps 2 and 3 that fail are reported pending; the retry is the same call, which redoes only what is
 * left (each step compares with the target state first). The policy in force before the freeze is
 * kept with the act, for resume, and so is why the wallet was frozen (GET /v1/wallets/:id shows it).
 */
import { PublicKey } from '@solana/web3.js';
import type { Kysely } from 'kysely';
import { WaiaasError } from '../../core/errors.ts';
import { type PolicyDocument, signPolicyBundle } from '../../core/policy.ts';
import { type Database, type Owner, type Store, setWalletPolicy, type Wallet } from '../../store/index.ts';
import { insertOwnerAct, latestOwnerAct, updateOwnerAct } from '../../store/owner-acts.ts';
import { blockWallet } from '../../store/wallet-acts.ts';
import type { Runtime } from '../runtime/runtime.ts';
import {
  assertSettled,
  assertUnlockOffered,
  isPolicyInForce,
  type LayerOutcome,
  newActId,
  oneActAtATime,
  ownersWallet,
  pendingOutcome,
  policyInForce,
} from './common.ts';
import { limitFacts, sendConfigChange } from './config-change.ts';
import { type FrozenReason, frozenReasonOf, ownerFreezeReason } from './frozen-reason.ts';
import { outcomeFacts, ownerActor, recordAct } from './record.ts';

export interface FreezeParams {
  readonly owner: Owner;
  readonly walletId: string;
  /** X-Owner-Unlock. */
  readonly unlock: string | undefined;
}

export interface FreezeResult {
  readonly walletId: string;
  readonly status: 'frozen';
  readonly server: {
    /** False when the wallet was frozen server-side already (a repeated call). */
    readonly changed: boolean;
    /** Transfers that had not reached signing: now cancelled, their amounts released. */
    readonly cancelledTransfers: string[];
    /** Transfers already signing or submitted: they confirm or fail on their own. */
    readonly inFlightTransfers: string[];
  };
  readonly enclave: LayerOutcome & { readonly policyVersion: number };
  readonly chain: LayerOutcome;
  /** What is left to happen, in words, when anything is. */
  readonly notes: string[];
}

const IN_FLIGHT_NOTE =
  'Transfers already signing or submitted were not cancelled: they confirm or fail on their own.';
const PENDING_NOTE =
  'The wallet is frozen on the server; a part marked pending did not complete: repeat this call to finish it.';

interface ValidatedFreeze {
  readonly owner: Owner;
  readonly wallet: Wallet;
  readonly unlock: string | undefined;
}

/** The policy the enclave holds while frozen: the same document with no assets, at `version`. */
export const frozenPolicy = (restore: PolicyDocument, version: number): PolicyDocument => ({
  ...restore,
  version,
  assets: {},
});

export async function validateFreeze(runtime: Runtime, params: FreezeParams): Promise<ValidatedFreeze> {
  const wallet = await ownersWallet(runtime, params.owner, params.walletId);
  assertSettled(wallet);
  assertUnlockOffered(runtime, params.owner, params.unlock);
  return { owner: params.owner, wallet, unlock: params.unlock };
}

export interface ServerBlock {
  readonly actId: string;
  readonly changed: boolean;
  readonly restore: PolicyDocument;
  /** Why the wallet is frozen: this block's reason, or the earlier one when it was frozen already. */
  readonly reason: FrozenReason;
  readonly cancelledTransfers: string[];
  readonly inFlightTransfers: string[];
}

/**
 * Writes what the block leaves besides its own rows (audit entry, webhook event) inside its
 * transaction, as its last statements.
 */
export type BlockRecorder = (trx: Kysely<Database>, block: ServerBlock) => Promise<void>;

/**
 * Step 1, in one write transaction: the wallet frozen, open transfers cancelled, the act recorded with
 * why, and whatever `record` adds (who blocked it, and why).
 */
export async function blockOnServer(
  store: Store,
  walletId: string,
  record?: BlockRecorder,
  reason: FrozenReason = ownerFreezeReason(),
): Promise<ServerBlock> {
  return store.writeTransaction(async (trx) => {
    const blocked = await blockWallet(trx, store.engine, walletId);
    // The policy to resume with: the one in force, unless the wallet was frozen already (then the
    // one in force may be the frozen policy, and the earlier freeze kept the real one). Likewise the
    // reason: the first one that froze it stays the reason.
    const earlier = blocked.changed ? undefined : await latestOwnerAct(trx, walletId, 'freeze');
    const restore =
      (earlier?.detail['restorePolicy'] as PolicyDocument | undefined) ??
      (JSON.parse(blocked.policyBundle) as { policy: PolicyDocument }).policy;
    const kept = earlier === undefined ? undefined : frozenReasonOf(earlier.detail);
    const why = kept ?? reason;
    const act = await insertOwnerAct(trx, {
      id: newActId(),
      walletId,
      kind: 'freeze',
      detail: { restorePolicy: restore, cancelledTransfers: blocked.cancelledTransfers, reason: why },
    });
    const block: ServerBlock = {
      actId: act.id,
      changed: blocked.changed,
      restore,
      reason: why,
      cancelledTransfers: blocked.cancelledTransfers,
      inFlightTransfers: blocked.inFlightTransfers,
    };
    await record?.(trx, block);
    return block;
  });
}

/** The owner's kill switch as the audit log and the owner's webhooks see its server step. */
const recordOwnerBlock =
  (owner: Owner, walletId: string): BlockRecorder =>
  (trx, block) => {
    const facts = {
      cancelledTransfers: block.cancelledTransfers,
      inFlightTransfers: block.inFlightTransfers,
    };
    return recordAct(trx, {
      kind: 'owner.freeze',
      actor: ownerActor(owner),
      walletId,
      subject: block.actId,
      details: { step: 'server', changed: block.changed, reason: block.reason, ...facts },
      event: block.changed
        ? { type: 'wallet.frozen', data: { by: 'owner', reason: block.reason, ...facts } }
        : undefined,
    });
  };

export async function executeFreeze(runtime: Runtime, validated: ValidatedFreeze): Promise<FreezeResult> {
  const { owner, wallet } = validated;
  const block = await blockOnServer(runtime.store, wallet.id, recordOwnerBlock(owner, wallet.id));
  const server = {
    changed: block.changed,
    cancelledTransfers: block.cancelledTransfers,
    inFlightTransfers: block.inFlightTransfers,
  };
  try {
    return await oneActAtATime(runtime, wallet.id, () =>
      runtime.ownerKeys.of(owner).withUnlock(validated.unlock, async (ownerSigner) => {
        const current = await ownersWallet(runtime, owner, wallet.id);
        const inForce = policyInForce(current);

        let enclave: FreezeResult['enclave'];
        try {
          // The enclave's own version, not only ours: after a crash it may hold a newer policy than
          // the database says, and that one must be superseded too.
          const held = (
            await runtime.signers.useFor(wallet.id, (client) => client.status([wallet.id]))
          ).wallets.find((entry) => entry.walletId === wallet.id)?.policyVersion;
          const version = inForce.document.version;
          const alreadyFrozen =
            held === version && isPolicyInForce(frozenPolicy(block.restore, version), inForce);
          if (alreadyFrozen) {
            enclave = { status: 'unchanged', policyVersion: version };
          } else {
            const document = frozenPolicy(block.restore, Math.max(version, held ?? 0) + 1);
            const bundle = await signPolicyBundle(wallet.id, document, ownerSigner);
            await runtime.signers.useFor(wallet.id, (client) => client.setPolicy(bundle));
            await setWalletPolicy(runtime.store.db, wallet.id, JSON.stringify(bundle), document.version);
            enclave = { status: 'done', policyVersion: document.version };
          }
        } catch (error) {
          enclave = { ...pendingOutcome(error), policyVersion: inForce.document.version };
        }

        let chain: LayerOutcome;
        let limits: ReturnType<typeof limitFacts> = [];
        try {
          const change = await sendConfigChange(runtime, ownerSigner, {
            wallet,
            owner: new PublicKey(owner.publicKey),
            actId: block.actId,
            policyAssets: [],
            target: () => ({ agent: null, limits: [] }),
          });
          limits = limitFacts(change.limits);
          chain = { status: change.status, ...(change.signature ? { signature: change.signature } : {}) };
        } catch (error) {
          chain = pendingOutcome(error);
        }

        const complete = enclave.status !== 'pending' && chain.status !== 'pending';
        await runtime.store.writeTransaction(async (trx) => {
          await updateOwnerAct(trx, block.actId, {
            status: complete ? 'done' : 'pending',
            signature: chain.signature ?? null,
            errorCode: chain.error?.code ?? enclave.error?.code ?? null,
          });
          await recordAct(trx, {
            kind: 'owner.freeze',
            actor: ownerActor(owner),
            walletId: wallet.id,
            subject: block.actId,
            details: {
              step: 'enclave+chain',
              status: complete ? 'done' : 'pending',
              enclave: { ...outcomeFacts(enclave), policyVersion: enclave.policyVersion },
              chain: outcomeFacts(chain),
              limits,
            },
          });
        });
        const notes = [
          ...(server.inFlightTransfers.length > 0 ? [IN_FLIGHT_NOTE] : []),
          ...(complete ? [] : [PENDING_NOTE]),
        ];
        return { walletId: wallet.id, status: 'frozen' as const, server, enclave, chain, notes };
      }),
    );
  } catch (error) {
    // The second factor failed (or the key is unreachable): the server block stands all the same.
    if (error instanceof WaiaasError) {
      throw new WaiaasError(error.code, {
        message: `${error.message} The wallet is frozen on the server; the enclave and on-chain parts are pending: repeat the call with the second factor.`,
        details: { ...error.details, serverBlocked: true, ...server },
        ...(error.layer ? { layer: error.layer } : {}),
        cause: error,
      });
    }
    throw error;
  }
}

export async function freezeWallet(runtime: Runtime, params: FreezeParams): Promise<FreezeResult> {
  return executeFreeze(runtime, await validateFreeze(runtime, params));
}
