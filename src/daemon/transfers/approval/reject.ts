/**
 * The owner says no to a pending transfer. Stored first, so no approval can slip in after it. With the
 * owner's second factor it is also voted down on chain: with two voters and threshold 2 one rejection
 * closes the proposal for good, and its accounts are closed in the same transaction (their rent back
 * to the fee payer). Without it the proposal stays open on chain, harmless: it cannot execute without
 * the owner's own approval; the owner's next act rejects and closes it (close-proposals.ts).
 */
import { PublicKey } from '@solana/web3.js';
import { buildProposalReject, readMultisig } from '../../../squads/index.ts';
import { closeApprovalSpend } from '../../../store/fee-spends.ts';
import type { Owner } from '../../../store/owners.ts';
import { findTransfer, type TransferRecord } from '../../../store/transfers.ts';
import { signSendConfirm } from '../../wallets/send-signed.ts';
import { nowBig, type PipelineContext } from '../context.ts';
import { transitionRecorded } from '../steps/record-event.ts';
import { expireIfOverdue } from './expire.ts';
import { notInState, ownedTransfer } from './owned.ts';

export interface Rejection {
  readonly record: TransferRecord;
  /** The owner's rejection vote on chain, when the second factor was given. */
  readonly signature: string | undefined;
}

async function markRejected(
  ctx: PipelineContext,
  owner: Owner,
  record: TransferRecord,
): Promise<TransferRecord> {
  const nowMs = nowBig(ctx);
  const rejected: TransferRecord = { ...record, status: 'rejected', updatedAt: nowMs };
  const moved = await transitionRecorded(
    ctx,
    record.id,
    { from: ['pending_approval'] },
    { status: 'rejected', updated_at: nowMs },
    { type: 'transfer.rejected', transfer: rejected, actor: { role: 'owner', id: owner.id } },
  );
  if (!moved) {
    const latest = (await findTransfer(ctx.store.db, record.id)) ?? record;
    throw notInState(latest, 'rejected', 'pending_approval');
  }
  ctx.events.emit('transfer.rejected', rejected);
  return rejected;
}

export async function rejectTransfer(
  ctx: PipelineContext,
  owner: Owner,
  transferId: string,
  unlock: string | undefined,
): Promise<Rejection> {
  const { record, wallet } = await ownedTransfer(ctx, owner, transferId);
  const current = await expireIfOverdue(ctx, record);
  if (current.status !== 'pending_approval') throw notInState(current, 'rejected', 'pending_approval');
  if (unlock === undefined) return { record: await markRejected(ctx, owner, current), signature: undefined };

  return ctx.runtime.ownerKeys.of(owner).withUnlock(unlock, async (signer) => {
    const rejected = await markRejected(ctx, owner, current);
    if (current.transactionIndex === null) return { record: rejected, signature: undefined };
    try {
      const ownerKey = new PublicKey(owner.publicKey);
      const state = await readMultisig(ctx.chain.connection, wallet.multisig);
      const feePayer = ctx.feePayer.publicKey;
      const collectorReady = state.rentCollector?.equals(feePayer) ?? false;
      // Closed in the same transaction: the proposal's rent goes back to the fee payer at once.
      const closing = collectorReady || state.configAuthority.equals(ownerKey);
      const { blockhash, lastValidBlockHeight } = await ctx.chain.recentBlockhash();
      const transaction = buildProposalReject({
        multisig: wallet.multisig,
        member: ownerKey,
        transactionIndex: current.transactionIndex,
        feePayer,
        recentBlockhash: blockhash,
        ...(closing && { close: { rentCollector: feePayer, setRentCollector: !collectorReady } }),
      });
      const signature = await signSendConfirm(
        ctx.chain,
        transaction,
        lastValidBlockHeight,
        [ctx.runtime.feePayer],
        signer,
      );
      if (closing) await closeApprovalSpend(ctx.store.db, current.id, nowBig(ctx));
      return { record: rejected, signature };
    } catch (error) {
      ctx.logger.warn(
        { err: error, transferId },
        'the on-chain rejection vote failed; the transfer stays rejected',
      );
      return { record: rejected, signature: undefined };
    }
  });
}
