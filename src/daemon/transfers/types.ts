/** What the transfer pipeline takes and gives, and the hooks tests use to stop it between steps. */
import type { TransferRecord } from '../../store/transfers.ts';

/** A request after validation: amounts in base units, addresses checked. */
export interface TransferRequest {
  readonly walletId: string;
  /** The recipient's wallet address (for tokens, its associated token account receives). */
  readonly to: string;
  readonly amount: bigint;
  /** Base58 mint for an SPL token; undefined for SOL. */
  readonly mint: string | undefined;
  readonly memo: string | undefined;
  readonly idempotencyKey: string | undefined;
  /** sha256 of the canonical request: a retry under the same key must match it. */
  readonly requestHash: string;
}

/** "SOL" or the mint: the key the policy and the counters use. */
export const assetOf = (request: Pick<TransferRequest, 'mint'>): string => request.mint ?? 'SOL';

/**
 * The points between the pipeline's steps, in order. A fault hook can stop the pipeline right after
 * any of them, as a crash would, to show that a restart completes the transfer exactly once.
 */
export type PipelineStep =
  | 'reserved'
  | 'built'
  | 'enclave-signed'
  | 'fee-payer-signed'
  | 'persisted'
  | 'submitted'
  | 'confirmed'
  | 'recorded'
  /** A retry under the same idempotency key is about to wait for the first request's work. */
  | 'retry-waiting';

export type FaultHook = (step: PipelineStep, transfer: TransferRecord) => void | Promise<void>;

/**
 * Thrown by a fault hook to stop the pipeline dead: nothing catches it to clean up, release or
 * record, exactly as if the process had died at that point.
 */
export class PipelineHalt extends Error {
  override readonly name = 'PipelineHalt';
  constructor(readonly step: PipelineStep) {
    super(`pipeline halted after ${step}`);
  }
}

export const isHalt = (error: unknown): error is PipelineHalt => error instanceof PipelineHalt;
