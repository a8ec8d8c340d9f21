/** How a transfer answers the request that made it (or a retry of it), and how it reads in the API. */
import { WaiaasError } from '../../core/errors.ts';
import type { TransferRecord } from '../../store/transfers.ts';
import { errorOfRecord } from './stored-error.ts';

export interface TransferView {
  id: string;
  walletId: string;
  status: TransferRecord['status'];
  tier: TransferRecord['tier'];
  /** Absent for an ordinary transfer. */
  kind?: Exclude<TransferRecord['kind'], 'transfer'>;
  asset: string;
  amount: string;
  to: string;
  memo?: string;
  signature?: string;
  proposalSignature?: string;
  transactionIndex?: string;
  executeAfter?: string;
  expiresAt?: string;
  error?: { code: string; message: string };
  createdAt: string;
  updatedAt: string;
}

const iso = (ms: bigint): string => new Date(Number(ms)).toISOString();

export function transferView(record: TransferRecord): TransferView {
  const error = errorOfRecord(record);
  return {
    id: record.id,
    walletId: record.walletId,
    status: record.status,
    tier: record.tier,
    ...(record.kind !== 'transfer' && { kind: record.kind }),
    asset: record.asset,
    amount: record.amount.toString(),
    to: record.destination,
    ...(record.memo !== null && { memo: record.memo }),
    // Only a signature that was sent is shown; one stored for a later send is not yet a fact.
    ...(record.signature !== null &&
      ['submitted', 'confirmed', 'failed'].includes(record.status) && { signature: record.signature }),
    ...(record.proposalSignature !== null && { proposalSignature: record.proposalSignature }),
    ...(record.transactionIndex !== null && { transactionIndex: record.transactionIndex.toString() }),
    ...(record.executeAfter !== null && { executeAfter: iso(record.executeAfter) }),
    ...(record.expiresAt !== null && { expiresAt: iso(record.expiresAt) }),
    ...(error && { error: { code: error.code, message: error.message } }),
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
  };
}

/** 200 once confirmed, 202 while it waits or is still on its way; an ended transfer answers its error. */
export function answerStatus(record: TransferRecord): 200 | 202 {
  switch (record.status) {
    case 'confirmed':
      return 200;
    case 'received':
    case 'signing':
    case 'submitted':
    case 'delayed':
    case 'pending_approval':
      return 202;
    default: {
      const error = errorOfRecord(record);
      if (error) throw error;
      throw new WaiaasError('CONFLICT', {
        message: `The transfer was ${record.status}`,
        details: { transferId: record.id, status: record.status },
      });
    }
  }
}
