/**
 * The approval tier's first half: the agent puts the transfer on chain as a vault transaction with
 * its proposal, and approves it (the enclave signs as creator and voter, L2 checking the vault
 * message it parses itself). The transfer stays `received` until that lands, then waits for the
 * owner as `pending_approval` until `approvalTimeoutSeconds` have passed.
 */
import type { PublicKey } from '@solana/web3.js';
import { isWaiaasError, WaiaasError } from '../../../core/errors.ts';
import { proposalAddress, readMultisig, transactionAddress } from '../../../squads/index.ts';
import { setFeeSpendLamports } from '../../../store/fee-spends.ts';
import { findTransfer, type TransferRecord } from '../../../store/transfers.ts';
import { type PipelineContext, reachedStep } from '../context.ts';
import { driveSigned } from '../drive-signed.ts';
import { buildProposal } from '../steps/build.ts';
import { enclaveSign } from '../steps/enclave-sign.ts';
import { ensureTokenAccount } from '../steps/ensure-token-account.ts';
import { feePayerSign } from '../steps/fee-payer-sign.ts';
import { persistSigned, type SignedTransaction } from '../steps/persist-signed.ts';
import { type OnRetryable, settleUnsigned } from '../steps/settle-unsigned.ts';
import { isHalt } from '../types.ts';
import type { WalletContext } from '../wallet-context.ts';

const MAX_PROPOSAL_ROUNDS = 3;

async function signProposal(
  ctx: PipelineContext,
  record: TransferRecord,
  wallet: WalletContext,
  onRetryable: OnRetryable,
): Promise<SignedTransaction | TransferRecord> {
  try {
    const agent: PublicKey | undefined = wallet.agent;
    if (agent === undefined) {
      throw new WaiaasError('CONFLICT', {
        message: 'The wallet has no active agent key',
        details: { walletId: wallet.id },
      });
    }
    const asset = await ctx.tokens.transferAsset(ctx.chain, record.asset);
    // The owner's execution needs the recipient's token account; made now, while nobody waits on it.
    if (asset !== 'SOL') {
      await ensureTokenAccount(ctx, record.destination, asset, {
        walletId: wallet.id,
        transferId: record.id,
        policy: wallet.policy,
      });
    }
    const { transactionIndex } = await readMultisig(ctx.chain.connection, wallet.multisig);
    const built = await buildProposal(ctx, wallet, agent, record, asset, transactionIndex + 1n);
    await reachedStep(ctx, 'built', record);
    await enclaveSign(ctx, wallet.id, record.id, built);
    await reachedStep(ctx, 'enclave-signed', record);
    const signature = feePayerSign(ctx, built);
    await reachedStep(ctx, 'fee-payer-signed', record);
    const persisted = await persistSigned(ctx, record, built, signature);
    if (persisted.kind === 'moved') return (await findTransfer(ctx.store.db, record.id)) ?? record;
    if (persisted.kind === 'duplicate')
      throw new WaiaasError('INTERNAL', { message: 'Signature already stored' });
    await reachedStep(ctx, 'persisted', persisted.record);
    return persisted;
  } catch (error) {
    if (isHalt(error)) throw error;
    return settleUnsigned(ctx, record, error, onRetryable);
  }
}

/**
 * From `received` (nothing stored signed) to `pending_approval`, or to its end. The multisig lock
 * (shared by every replica) orders proposals for one wallet; one that cannot get it in time
 * (MULTISIG_BUSY) is settled like any passing trouble before signing: withdrawn on the request path,
 * left for the workers otherwise.
 */
export async function propose(
  ctx: PipelineContext,
  record: TransferRecord,
  wallet: WalletContext,
  onRetryable: OnRetryable,
): Promise<TransferRecord> {
  try {
    return await proposeHoldingMultisig(ctx, record, wallet, onRetryable);
  } catch (error) {
    if (isWaiaasError(error) && error.code === 'MULTISIG_BUSY')
      return settleUnsigned(ctx, record, error, onRetryable);
    throw error;
  }
}

function proposeHoldingMultisig(
  ctx: PipelineContext,
  record: TransferRecord,
  wallet: WalletContext,
  onRetryable: OnRetryable,
): Promise<TransferRecord> {
  return ctx.proposals.run(wallet.id, async () => {
    let current = record;
    for (let round = 0; round < MAX_PROPOSAL_ROUNDS; round++) {
      const signed = await signProposal(ctx, current, wallet, onRetryable);
      if (!('wire' in signed)) return signed;
      current = await driveSigned(ctx, signed.record, {
        wire: signed.wire,
        fresh: true,
        skipPreflight: false,
        vault: wallet.vault,
        approvalTimeoutSeconds: wallet.policy.approvalTimeoutSeconds,
      });
      // Back at `received` with nothing stored: its blockhash expired unsent; propose again.
      if (!(current.status === 'received' && current.signature === null)) {
        if (current.status === 'pending_approval') await chargeActualRent(ctx, wallet, current);
        return current;
      }
    }
    return current;
  });
}

/** The reservation charged an upper bound; now that the accounts exist, the fee budget gets their rent. */
async function chargeActualRent(ctx: PipelineContext, wallet: WalletContext, record: TransferRecord) {
  if (record.transactionIndex === null) return;
  try {
    const infos = await ctx.chain.connection.getMultipleAccountsInfo(
      [
        transactionAddress(wallet.multisig, record.transactionIndex),
        proposalAddress(wallet.multisig, record.transactionIndex),
      ],
      'confirmed',
    );
    const rent = infos.reduce((sum, info) => sum + BigInt(info?.lamports ?? 0), 0n);
    if (rent > 0n) await setFeeSpendLamports(ctx.store.db, record.id, 'approval', rent);
  } catch (error) {
    // The upper bound stays charged: stricter, never looser.
    ctx.logger.warn({ err: error, transferId: record.id }, 'could not read the approval request rent');
  }
}
