/**
 * Steps 8–10 for a transaction already stored: send it (or, after a restart, look it up first and
 * re-send the same bytes only while its blockhash is still valid), confirm, record. Never signs.
 */
import type { PublicKey } from '@solana/web3.js';
import type { TransferRecord } from '../../store/transfers.ts';
import { type PipelineContext, reachedStep } from './context.ts';
import { type ChainOutcome, confirmLanding } from './steps/confirm.ts';
import { recordOutcome } from './steps/record.ts';
import { submit } from './steps/submit.ts';

export interface DriveOptions {
  /** The stored wire bytes. */
  readonly wire: Uint8Array;
  /** Just persisted by this process (send now) or found stored after a restart (look up first). */
  readonly fresh: boolean;
  readonly skipPreflight: boolean;
  readonly vault: PublicKey;
  readonly approvalTimeoutSeconds?: number;
}

async function stillUnsent(ctx: PipelineContext, record: TransferRecord): Promise<boolean> {
  try {
    const status = await ctx.chain.status(record.signature!);
    if (status.status !== 'unknown') return false;
    return (await ctx.chain.blockHeight()) <= record.lastValidBlockHeight!;
  } catch {
    // Cannot tell: sending the same bytes again is harmless, they land once at most.
    return true;
  }
}

export async function driveSigned(
  ctx: PipelineContext,
  record: TransferRecord,
  options: DriveOptions,
): Promise<TransferRecord> {
  const signature = record.signature;
  const lastValidBlockHeight = record.lastValidBlockHeight;
  if (signature === null || lastValidBlockHeight === null) return record;
  let outcome: ChainOutcome | undefined;
  const timer = ctx.metrics.chainConfirmSeconds.startTimer();
  if (options.fresh || (await stillUnsent(ctx, record))) {
    const sent = await submit(ctx, options.wire, { skipPreflight: options.skipPreflight });
    await reachedStep(ctx, 'submitted', record);
    if (sent.kind === 'rejected') outcome = { kind: 'failed', error: sent.error };
  }
  outcome ??= await confirmLanding(ctx, signature, lastValidBlockHeight, options.vault);
  timer({ outcome: outcome.kind });
  await reachedStep(ctx, 'confirmed', record);
  const final = await recordOutcome(ctx, record, outcome, options.approvalTimeoutSeconds);
  await reachedStep(ctx, 'recorded', final);
  return final;
}

export const wireOf = (record: TransferRecord): Uint8Array =>
  new Uint8Array(Buffer.from(record.signedTransaction ?? '', 'base64'));
