/** A transfer as its wallet's owner sees it; anyone else's transfers do not exist for them. */
import { WaiaasError } from '../../../core/errors.ts';
import type { Owner } from '../../../store/owners.ts';
import { findTransfer, type TransferRecord } from '../../../store/transfers.ts';
import type { PipelineContext } from '../context.ts';
import type { WalletContext } from '../wallet-context.ts';

export async function ownedTransfer(
  ctx: PipelineContext,
  owner: Owner,
  transferId: string,
): Promise<{ record: TransferRecord; wallet: WalletContext }> {
  const record = await findTransfer(ctx.store.db, transferId);
  const wallet = record && (await ctx.wallets.get(ctx.store.db, record.walletId));
  if (!record || !wallet || wallet.ownerId !== owner.id) {
    throw new WaiaasError('NOT_FOUND', { message: `No transfer ${transferId}.` });
  }
  return { record, wallet };
}

export const notInState = (record: TransferRecord, action: string, expected: string) =>
  new WaiaasError('CONFLICT', {
    message: `Only a ${expected} transfer can be ${action}; this one is ${record.status}`,
    details: { transferId: record.id, status: record.status },
  });
