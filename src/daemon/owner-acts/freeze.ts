/**
 * The kill switch. Ordered so that the agent is stopped as early as possible and a failure anywhere
 * leaves the wallet stopped (fail closed):
 *   1. server (milliseconds, no second factor used yet): wallets.status = frozen and every transfer not
 *      yet signing is cancelled, in one database transaction;
 *   2. enclave: the owner signs a "frozen" policy, the policy in force with no assets at the next
 *      version, so L2 refuses every transfer whatever the host asks and even after a restart;
 *   3. chain: one owner transaction removing every spending limit, lowering the threshold to 1 and
 *      removing the agent member.
 * Steps 2 and 3 that fail are reported pending; the retry is the same call, which redoes only what is
 * left (each step compares with the target state first). The policy in force before the freeze is
 * kept with the act, for resume.
 */
import { PublicKey } from '@solana/web3.js';
import type { Kysely } from 'kysely';
import { WaiaasError } from '../../core/errors.ts';
import { type PolicyDocument, policyHashHex, signPolicyBundle } from '../../core/policy.ts';
import { buildFreeze } from '../../squads/index.ts';
import { type Database, type Owner, type Store, setWalletPolicy, type Wallet } from '../../store/index.ts';
import { insertOwnerAct, latestOwnerAct, updateOwnerAct } from '../../store/owner-acts.ts';
import type { Runtime } from '../runtime/runtime.ts';
import {
  assertSettled,
  assertUnlockOffered,
  type LayerOutcome,
  newActId,
  oneActAtATime,
  ownerChainStep,
  ownersWallet,
  pendingOutcome,
  policyInForce,
  readWalletConfig,
} from './common.ts';
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

/** Cancelled by a freeze: every state before signing. Signing and submitted ones cannot be called back. */
const CANCELLABLE = ['received', 'delayed', 'pending_approval'] as const;
const IN_FLIGHT = ['signing', 'submitted'] as const;

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
  readonly cancelledTransfers: string[];
  readonly inFlightTransfers: string[];
}

/**
 * Writes what the block leaves besides its own rows (audit entry, webhook event) inside its
 * transaction, as its last statements.
 */
export type BlockRecorder = (trx: Kysely<Database>, block: ServerBlock) => Promise<void>;

/**
 * Step 1, in one write transaction: the wallet frozen, open transfers cancelled, the act recorded,
 * and whatever `record` adds (who blocked it, and why).
 */
export async function blockOnServer(
  store: Store,
  walletId: string,
  record?: BlockRecorder,
): Promise<ServerBlock> {
  // SQLite's BEGIN IMMEDIATE already holds the write lock; PostgreSQL takes the wallet row's.
  const lockRow = store.engine === 'postgres';
  return store.writeTransaction(async (trx) => {
    const row = await trx
      .selectFrom('wallets')
      .select(['status', 'policy_bundle'])
      .where('id', '=', walletId)
      .$if(lockRow, (query) => query.forUpdate())
      .executeTakeFirstOrThrow();
    const now = BigInt(Date.now());
    const changed = row.status !== 'frozen';
    if (changed) {
      await trx
        .updateTable('wallets')
        .set({ status: 'frozen', updated_at: now })
        .where('id', '=', walletId)
        .execute();
    }
    const cancelled = await trx
      .updateTable('transfers')
      .set({ status: 'cancelled', counts_daily: 0n, error_code: 'WALLET_FROZEN', updated_at: now })
      .where('wallet_id', '=', walletId)
      .where('status', 'in', [...CANCELLABLE])
      .returning('id')
      .execute();
    const inFlight = await trx
      .selectFrom('transfers')
      .select('id')
      .where('wallet_id', '=', walletId)
      .where('status', 'in', [...IN_FLIGHT])
      .execute();
    // The policy to resume with: the one in force, unless the wallet was frozen already (then the
    // one in force may be the frozen policy, and the earlier freeze kept the real one).
    const earlier = changed ? undefined : await latestOwnerAct(trx, walletId, 'freeze');
    const restore =
      (earlier?.detail.restorePolicy as PolicyDocument | undefined) ?? JSON.parse(row.policy_bundle).policy;
    const cancelledTransfers = cancelled.map((transfer) => transfer.id);
    const act = await insertOwnerAct(trx, {
      id: newActId(),
      walletId,
      kind: 'freeze',
      detail: { restorePolicy: restore, cancelledTransfers },
    });
    const block: ServerBlock = {
      actId: act.id,
      changed,
      restore,
      cancelledTransfers,
      inFlightTransfers: inFlight.map((transfer) => transfer.id),
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
      details: { step: 'server', changed: block.changed, ...facts },
      event: block.changed ? { type: 'wallet.frozen', data: { by: 'owner', ...facts } } : undefined,
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
    return await oneActAtATime(wallet.id, () =>
      runtime.ownerKeys.of(owner).withUnlock(validated.unlock, async (ownerSigner) => {
        const current = await ownersWallet(runtime, owner, wallet.id);
        const inForce = policyInForce(current);

        let enclave: FreezeResult['enclave'];
        try {
          // The enclave's own version, not only ours: after a crash it may hold a newer policy than
          // the database says, and that one must be superseded too.
          const held = (await runtime.enclave.use((client) => client.status())).wallets.find(
            (entry) => entry.walletId === wallet.id,
          )?.policyVersion;
          const version = inForce.document.version;
          const alreadyFrozen =
            held === version && policyHashHex(frozenPolicy(block.restore, version)) === inForce.hash;
          if (alreadyFrozen) {
            enclave = { status: 'unchanged', policyVersion: version };
          } else {
            const document = frozenPolicy(block.restore, Math.max(version, held ?? 0) + 1);
            const bundle = await signPolicyBundle(wallet.id, document, ownerSigner);
            await runtime.enclave.use((client) => client.setPolicy(bundle));
            await setWalletPolicy(runtime.store.db, wallet.id, JSON.stringify(bundle), document.version);
            enclave = { status: 'done', policyVersion: document.version };
          }
        } catch (error) {
          enclave = { ...pendingOutcome(error), policyVersion: inForce.document.version };
        }

        const chain = await ownerChainStep(runtime, ownerSigner, async (recentBlockhash) =>
          buildFreeze({
            current: await readWalletConfig(runtime, wallet),
            owner: new PublicKey(owner.publicKey),
            feePayer: runtime.feePayer.publicKey,
            recentBlockhash,
          }),
        );

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
