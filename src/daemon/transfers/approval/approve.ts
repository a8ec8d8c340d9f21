/**
 * The owner approves a pending transfer: after the second factor, the transfer is claimed (only while
 * still pending and not expired), the owner signs its approval and the execution in one transaction,
 * the fee payer pays, and it goes the way of every signed transaction (stored, sent, confirmed). The
 * executed vault transaction and proposal are closed in that same transaction (rent back to the fee payer).
 * The vault transaction on chain is checked to be exactly this transfer before the owner signs.
 */
import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../../core/errors.ts';
import { signTransactionMessage } from '../../../keys/sign-transaction.ts';
import type { OwnerSigner } from '../../../keys/types.ts';
import { buildOwnerApproveAndExecute, readMultisig, readPendingTransfer } from '../../../squads/index.ts';
import { closeApprovalSpend } from '../../../store/fee-spends.ts';
import type { Owner } from '../../../store/owners.ts';
import { findTransfer, type TransferRecord, transitionTransfer } from '../../../store/transfers.ts';
import { nowBig, type PipelineContext, reachedStep } from '../context.ts';
import { driveSigned } from '../drive-signed.ts';
import { ensureTokenAccount } from '../steps/ensure-token-account.ts';
import { feePayerSign } from '../steps/fee-payer-sign.ts';
import { persistSigned } from '../steps/persist-signed.ts';
import { transitionRecorded } from '../steps/record-event.ts';
import { builtFromVersioned } from '../steps/signed-message.ts';
import { isHalt } from '../types.ts';
import type { WalletContext } from '../wallet-context.ts';
import { expireIfOverdue } from './expire.ts';
import { notInState, ownedTransfer } from './owned.ts';

async function executeApproved(
  ctx: PipelineContext,
  owner: Owner,
  signer: OwnerSigner,
  record: TransferRecord,
  wallet: WalletContext,
): Promise<TransferRecord> {
  try {
    const transactionIndex = record.transactionIndex;
    if (transactionIndex === null)
      throw new WaiaasError('INTERNAL', { message: 'Approval without a proposal' });
    const asset = await ctx.tokens.transferAsset(ctx.chain, record.asset);
    if (asset !== 'SOL') {
      await ensureTokenAccount(ctx, record.destination, asset, {
        walletId: wallet.id,
        transferId: record.id,
        policy: wallet.policy,
      });
    }
    const pending = await readPendingTransfer(ctx.chain.connection, wallet.multisig, transactionIndex);
    if (pending.vaultTransaction === null || pending.proposal?.status !== 'Active') {
      throw new WaiaasError('CONFLICT', {
        message: 'The proposal is no longer open on chain',
        details: { transferId: record.id, proposal: pending.proposal?.status ?? 'missing' },
      });
    }
    const ownerKey = new PublicKey(owner.publicKey);
    const state = await readMultisig(ctx.chain.connection, wallet.multisig);
    const feePayer = ctx.feePayer.publicKey;
    const collectorReady = state.rentCollector?.equals(feePayer) ?? false;
    // Closed in the same transaction once executed: the proposal's rent goes back to the fee payer.
    const closing = collectorReady || state.configAuthority.equals(ownerKey);
    const { blockhash, lastValidBlockHeight } = await ctx.chain.recentBlockhash();
    const transaction = buildOwnerApproveAndExecute({
      multisig: wallet.multisig,
      owner: ownerKey,
      transactionIndex,
      vaultTransaction: pending.vaultTransaction,
      expected: { asset, amount: record.amount, destination: new PublicKey(record.destination) },
      feePayer,
      recentBlockhash: blockhash,
      ...(closing && { close: { rentCollector: feePayer, setRentCollector: !collectorReady } }),
    });
    const built = builtFromVersioned(transaction, lastValidBlockHeight);
    await reachedStep(ctx, 'built', record);
    const { signerIndex, signature: ownerSignature } = await signTransactionMessage(signer, built.message);
    built.signatures[signerIndex] = ownerSignature;
    const signature = feePayerSign(ctx, built);
    await reachedStep(ctx, 'fee-payer-signed', record);
    const persisted = await persistSigned(ctx, record, built, signature);
    if (persisted.kind === 'moved') return (await findTransfer(ctx.store.db, record.id)) ?? record;
    if (persisted.kind === 'duplicate')
      throw new WaiaasError('INTERNAL', { message: 'Signature already stored' });
    await reachedStep(ctx, 'persisted', persisted.record);
    const driven = await driveSigned(ctx, persisted.record, {
      wire: persisted.wire,
      fresh: true,
      skipPreflight: false,
      vault: wallet.vault,
    });
    if (closing && driven.status === 'confirmed')
      await closeApprovalSpend(ctx.store.db, record.id, nowBig(ctx));
    return driven;
  } catch (error) {
    if (isHalt(error)) throw error;
    // Nothing was sent: the decision is the owner's again.
    await transitionTransfer(
      ctx.store.db,
      record.id,
      { from: ['signing'], claimedBy: ctx.replicaId },
      { status: 'pending_approval', claimed_by: null, claimed_until: null, updated_at: nowBig(ctx) },
    );
    throw error;
  }
}

export async function approveTransfer(
  ctx: PipelineContext,
  owner: Owner,
  transferId: string,
  unlock: string | undefined,
): Promise<TransferRecord> {
  const { record, wallet } = await ownedTransfer(ctx, owner, transferId);
  const current = await expireIfOverdue(ctx, record);
  if (current.status !== 'pending_approval') throw notInState(current, 'approved', 'pending_approval');
  return ctx.runtime.ownerKeys.of(owner).withUnlock(unlock, async (signer) => {
    const nowMs = nowBig(ctx);
    const signing: TransferRecord = {
      ...current,
      status: 'signing',
      claimedBy: ctx.replicaId,
      claimedUntil: nowMs + BigInt(ctx.leaseMs),
      updatedAt: nowMs,
    };
    // The owner's decision, recorded as theirs in the transaction that claims the transfer for execution.
    const claimed = await transitionRecorded(
      ctx,
      record.id,
      { from: ['pending_approval'], unexpiredAt: nowMs },
      {
        status: 'signing',
        claimed_by: ctx.replicaId,
        claimed_until: nowMs + BigInt(ctx.leaseMs),
        updated_at: nowMs,
      },
      { type: 'approval.approved', transfer: signing, actor: { role: 'owner', id: owner.id } },
    );
    if (!claimed) {
      const latest = (await findTransfer(ctx.store.db, record.id)) ?? current;
      throw notInState(latest, 'approved', 'pending_approval');
    }
    const work = executeApproved(ctx, owner, signer, signing, wallet);
    ctx.inFlight.set(record.id, work);
    try {
      return await work;
    } finally {
      ctx.inFlight.delete(record.id);
    }
  });
}
