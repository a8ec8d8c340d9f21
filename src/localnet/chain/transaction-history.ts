import bs58 from 'bs58';
import { TransactionMetadata } from 'litesvm/dist/internal.js';
import { MAX_PROCESSING_AGE } from './blockhashes.ts';
import type { TransactionErrorJson } from './transaction-error.ts';

export interface InnerInstructionsJson {
  index: number;
  instructions: Array<{ programIdIndex: number; accounts: number[]; data: string; stackHeight: number }>;
}

/** What execution produced, in plain data (LiteSVM's native metadata is converted lazily). */
export interface ExecutionDetails {
  logs: string[];
  computeUnitsConsumed: number;
  innerInstructions: InnerInstructionsJson[];
  returnData: { programId: string; data: string } | null;
}

export interface TransactionRecord {
  seq: number;
  signature: string;
  slot: number;
  blockTime: number;
  version: 'legacy' | 0;
  transaction: Uint8Array;
  err: TransactionErrorJson | null;
  fee: bigint;
  preBalances: bigint[];
  postBalances: bigint[];
  loadedAddresses: { writable: string[]; readonly: string[] };
  execution: TransactionMetadata | ExecutionDetails;
}

export interface SignatureStatus {
  slot: number;
  err: TransactionErrorJson | null;
}

export function executionDetails(meta: TransactionMetadata): ExecutionDetails {
  const innerInstructions: InnerInstructionsJson[] = [];
  meta.innerInstructions().forEach((list, index) => {
    if (list.length === 0) return;
    innerInstructions.push({
      index,
      instructions: list.map((inner) => {
        const compiled = inner.instruction();
        return {
          programIdIndex: compiled.programIdIndex(),
          accounts: [...compiled.accounts()],
          data: bs58.encode(compiled.data()),
          stackHeight: inner.stackHeight(),
        };
      }),
    });
  });
  const returned = meta.returnData();
  const returnedData = returned.data();
  return {
    logs: meta.logs(),
    computeUnitsConsumed: Number(meta.computeUnitsConsumed()),
    innerInstructions,
    returnData:
      returnedData.length === 0
        ? null
        : {
            programId: bs58.encode(returned.programId()),
            data: Buffer.from(returnedData).toString('base64'),
          },
  };
}

export const detailsOf = (record: TransactionRecord): ExecutionDetails => {
  if (record.execution instanceof TransactionMetadata) record.execution = executionDetails(record.execution);
  return record.execution;
};

/**
 * Two memories, like a validator: the status cache (every signature processed within the blockhash
 * window, for duplicate refusal and statuses) and a bounded ledger of full records for getTransaction.
 */
export class TransactionHistory {
  private readonly statuses = new Map<string, SignatureStatus>();
  private readonly records = new Map<string, TransactionRecord>();
  private unsaved: TransactionRecord[] = [];

  constructor(private readonly limit: number) {}

  add(record: TransactionRecord, currentSlot: number): void {
    this.pruneStatuses(currentSlot);
    this.statuses.set(record.signature, { slot: record.slot, err: record.err });
    this.records.set(record.signature, record);
    if (this.records.size > this.limit) {
      const oldest = this.records.keys().next();
      if (!oldest.done) this.records.delete(oldest.value);
    }
    this.unsaved.push(record);
  }

  /** Restores a record read back from disk (no unsaved marking). */
  restore(record: TransactionRecord, currentSlot: number): void {
    if (record.slot + MAX_PROCESSING_AGE + 1 >= currentSlot) {
      this.statuses.set(record.signature, { slot: record.slot, err: record.err });
    }
    this.records.set(record.signature, record);
    if (this.records.size > this.limit) {
      const oldest = this.records.keys().next();
      if (!oldest.done) this.records.delete(oldest.value);
    }
  }

  /** Processed within the blockhash window, so a resend must be refused. */
  isRecent(signature: string): boolean {
    return this.statuses.has(signature);
  }

  status(signature: string): SignatureStatus | null {
    const status = this.statuses.get(signature);
    if (status) return status;
    const record = this.records.get(signature);
    return record ? { slot: record.slot, err: record.err } : null;
  }

  get(signature: string): TransactionRecord | null {
    return this.records.get(signature) ?? null;
  }

  /** Newest first. */
  *newestFirst(): Generator<TransactionRecord> {
    const all = [...this.records.values()];
    for (let i = all.length - 1; i >= 0; i--) yield all[i]!;
  }

  takeUnsaved(): TransactionRecord[] {
    const taken = this.unsaved;
    this.unsaved = [];
    return taken;
  }

  /** Puts records back after a failed save, ahead of anything processed since. */
  requeueUnsaved(records: TransactionRecord[]): void {
    this.unsaved = [...records, ...this.unsaved];
  }

  private pruneStatuses(currentSlot: number): void {
    // Statuses are inserted in processing order; anything processed more than the window ago
    // carries a blockhash that has expired, so it can no longer be replayed.
    for (const [signature, status] of this.statuses) {
      if (status.slot + MAX_PROCESSING_AGE + 1 >= currentSlot) break;
      this.statuses.delete(signature);
    }
  }
}

interface RecordLine {
  seq: number;
  signature: string;
  slot: number;
  blockTime: number;
  version: 'legacy' | 0;
  transaction: string;
  err: TransactionErrorJson | null;
  fee: string;
  preBalances: string[];
  postBalances: string[];
  loadedAddresses: { writable: string[]; readonly: string[] };
  execution: ExecutionDetails;
}

export function recordToLine(record: TransactionRecord): string {
  const line: RecordLine = {
    seq: record.seq,
    signature: record.signature,
    slot: record.slot,
    blockTime: record.blockTime,
    version: record.version,
    transaction: Buffer.from(record.transaction).toString('base64'),
    err: record.err,
    fee: record.fee.toString(),
    preBalances: record.preBalances.map(String),
    postBalances: record.postBalances.map(String),
    loadedAddresses: record.loadedAddresses,
    execution: detailsOf(record),
  };
  return JSON.stringify(line);
}

export function recordFromLine(text: string): TransactionRecord {
  const line = JSON.parse(text) as RecordLine;
  return {
    ...line,
    transaction: Buffer.from(line.transaction, 'base64'),
    fee: BigInt(line.fee),
    preBalances: line.preBalances.map(BigInt),
    postBalances: line.postBalances.map(BigInt),
  };
}
