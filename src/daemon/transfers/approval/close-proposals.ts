/**
 * Approval requests give their rent back to the fee payer once decided. Each open request (its
 * charge in fee_spends not closed) whose transfer is over (confirmed, rejected, expired, cancelled,
 * failed) is looked up on chain at its transaction index:
 *   - nothing there, or another transfer's vault transaction: ours never landed or is closed
 *     already, so it holds no rent: released;
 *   - executed, rejected or cancelled, or stale (a membership change invalidated it) and not
 *     approved: closed by the fee payer alone (vaultTransactionAccountsClose, rent to the fee payer
 *     as the multisig's rent collector);
 *   - still Active (expired, or rejected only on the server because no second factor came): it needs
 *     the owner's rejection vote first. With the owner's signer (the owner's next act) it is rejected
 *     and closed in one transaction; without, it waits. The bound on open requests (policy
 *     fees.maxOpenApprovals) bounds what waits.
 * A wallet made before the rent collector was set gets it set by the owner in the first transaction.
 */
import { PublicKey, type VersionedTransaction } from '@solana/web3.js';
import type { OwnerSigner } from '../../../keys/types.ts';
import {
  assertVaultTransactionIs,
  buildProposalsClose,
  readMultisig,
  readPendingTransfer,
  type TransferAsset,
} from '../../../squads/index.ts';
import { closeApprovalSpend, type OpenApproval, openApprovals } from '../../../store/fee-spends.ts';
import { readTokenAsset } from '../../owner-acts/chain-reads.ts';
import type { RuntimeParts } from '../../runtime/runtime.ts';
import { signSendConfirm } from '../../wallets/send-signed.ts';

const OVER = new Set(['confirmed', 'rejected', 'expired', 'cancelled', 'failed']);
const CLOSABLE = new Set(['Executed', 'Rejected', 'Cancelled']);

export interface ApprovalRentOutcome {
  /** Transfers whose vault transaction and proposal were closed now (their rent returned). */
  readonly closed: string[];
  /** Transfers found to hold no rent (never landed, or closed already). */
  readonly released: string[];
  /** Transfers whose proposal stays open until the owner rejects it (or one of the above later). */
  readonly waiting: string[];
}

export interface OwnerForClosing {
  readonly publicKey: PublicKey;
  readonly signer: OwnerSigner;
}

async function assetOf(runtime: RuntimeParts, label: string): Promise<TransferAsset> {
  return label === 'SOL' ? 'SOL' : readTokenAsset(runtime.chain.connection, new PublicKey(label));
}

/** Whether the vault transaction on chain is this transfer's (the index may hold another's). */
async function isOurs(
  runtime: RuntimeParts,
  multisig: PublicKey,
  open: OpenApproval,
  vaultTransaction: NonNullable<Awaited<ReturnType<typeof readPendingTransfer>>['vaultTransaction']>,
): Promise<boolean> {
  try {
    assertVaultTransactionIs(vaultTransaction, multisig, {
      asset: await assetOf(runtime, open.asset),
      amount: open.amount,
      destination: new PublicKey(open.destination),
    });
    return true;
  } catch {
    return false;
  }
}

const needsOwner = (transaction: VersionedTransaction, owner: PublicKey): boolean =>
  transaction.message.staticAccountKeys
    .slice(0, transaction.message.header.numRequiredSignatures)
    .some((key) => key.equals(owner));

/** Settles `walletId`'s decided approval requests as far as the chain allows (see above). */
export async function settleApprovalRent(
  runtime: RuntimeParts,
  walletId: string,
  multisig: PublicKey,
  owner?: OwnerForClosing,
): Promise<ApprovalRentOutcome> {
  const outcome: ApprovalRentOutcome = { closed: [], released: [], waiting: [] };
  const decided = (await openApprovals(runtime.store.db, walletId)).filter((open) => OVER.has(open.status));
  if (decided.length === 0) return outcome;
  const connection = runtime.chain.connection;
  const state = await readMultisig(connection, multisig);
  const feePayer = runtime.feePayer.publicKey;
  const now = () => BigInt(Date.now());

  const closable: { transferId: string; index: bigint }[] = [];
  const toReject: { transferId: string; index: bigint }[] = [];
  for (const open of decided) {
    const index = open.transactionIndex;
    const pending = index === null ? null : await readPendingTransfer(connection, multisig, index);
    const holdsNothing =
      index === null ||
      pending === null ||
      (pending.vaultTransaction === null && pending.proposal === null) ||
      (pending.vaultTransaction !== null &&
        !(await isOurs(runtime, multisig, open, pending.vaultTransaction)));
    if (holdsNothing) {
      await closeApprovalSpend(runtime.store.db, open.transferId, now());
      outcome.released.push(open.transferId);
      continue;
    }
    const status = pending?.proposal?.status;
    const stale = index <= state.staleTransactionIndex;
    if (pending?.vaultTransaction === null || status === undefined) {
      outcome.waiting.push(open.transferId);
    } else if (CLOSABLE.has(status) || (stale && status !== 'Approved' && status !== 'Executing')) {
      closable.push({ transferId: open.transferId, index });
    } else if (status === 'Active' && owner !== undefined) {
      toReject.push({ transferId: open.transferId, index });
    } else {
      outcome.waiting.push(open.transferId);
    }
  }
  if (closable.length === 0 && toReject.length === 0) return outcome;

  const ownerIsAuthority = owner !== undefined && state.configAuthority.equals(owner.publicKey);
  const collectorReady = state.rentCollector?.equals(feePayer) ?? false;
  if (!collectorReady && !ownerIsAuthority) {
    // Closing would pay someone else, or fail (no rent collector): it waits for the owner.
    outcome.waiting.push(
      ...closable.map((item) => item.transferId),
      ...toReject.map((item) => item.transferId),
    );
    return outcome;
  }
  const { blockhash, lastValidBlockHeight } = await runtime.chain.recentBlockhash();
  const transactions = buildProposalsClose({
    multisig,
    rentCollector: feePayer,
    closable: closable.map((item) => item.index),
    toReject: toReject.map((item) => item.index),
    ...(owner ? { owner: owner.publicKey } : {}),
    setRentCollector: !collectorReady,
    feePayer,
    recentBlockhash: blockhash,
  });
  for (const transaction of transactions) {
    await signSendConfirm(
      runtime.chain,
      transaction,
      lastValidBlockHeight,
      [runtime.feePayer],
      owner && needsOwner(transaction, owner.publicKey) ? owner.signer : undefined,
    );
  }
  for (const item of [...closable, ...toReject]) {
    const after = await readPendingTransfer(connection, multisig, item.index);
    if (after.vaultTransaction === null && after.proposal === null) {
      await closeApprovalSpend(runtime.store.db, item.transferId, now());
      outcome.closed.push(item.transferId);
    } else {
      outcome.waiting.push(item.transferId);
    }
  }
  return outcome;
}
