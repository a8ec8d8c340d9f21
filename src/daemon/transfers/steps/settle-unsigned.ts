/**
 * A transfer that failed before anything was sent. Nothing reached the chain, so the outcome is only
 * ours to decide, and the reservation is released whichever way it goes:
 * - the enclave's delay has not run out by its own clock: back to `delayed` until it has;
 * - a refusal by the enclave (L2): `rejected`, and the same answer for a retry under the same key;
 * - a passing trouble (enclave restarting, RPC down): withdrawn (the row removed, so a retry under the
 *   same key starts afresh) on the request path, or left for a later attempt by the workers;
 * - anything else: `failed`.
 */
import { isWaiaasError, WaiaasError } from '../../../core/errors.ts';
import { deleteUnsignedTransfer, type TransferRecord, transitionTransfer } from '../../../store/transfers.ts';
import { nowBig, type PipelineContext } from '../context.ts';
import { storedError } from '../stored-error.ts';
import { enclaveDelayUntil } from './enclave-sign.ts';
import { transitionRecorded } from './record-event.ts';

/** What to do on a passing trouble: give the request back to the caller, or try again later. */
export type OnRetryable = 'withdraw' | 'retry-later';

export const RETRY_LATER_MS = 5_000;

export async function settleUnsigned(
  ctx: PipelineContext,
  record: TransferRecord,
  error: unknown,
  onRetryable: OnRetryable,
): Promise<TransferRecord> {
  const db = ctx.store.db;
  const guard = { from: [record.status], claimedBy: ctx.replicaId };
  const nowMs = nowBig(ctx);
  const enclaveUntil = enclaveDelayUntil(error);
  if (enclaveUntil !== undefined && record.tier === 'delay') {
    // The enclave answers by its own clock. What it still waits is put on the server's clock, which
    // is what the delayed worker compares with: a server clock ahead of the enclave's would otherwise
    // find the transfer due again at every tick, claim it, be refused, and put it back, over and
    // over (and an owner's cancel landing while it was claimed would fail). The wall clock here is
    // the best reading of the enclave's (the same machine in process mode).
    const delayUntil = ctx.now() + Math.max(0, enclaveUntil - Date.now());
    const executeAfter = BigInt(delayUntil);
    await transitionTransfer(db, record.id, guard, {
      status: 'delayed',
      execute_after: executeAfter,
      claimed_by: null,
      claimed_until: null,
      updated_at: nowMs,
    });
    ctx.wakeDelayedAt(delayUntil);
    return { ...record, status: 'delayed', executeAfter, claimedBy: null, claimedUntil: null };
  }

  const failure = isWaiaasError(error) ? error : new WaiaasError('INTERNAL', { cause: error });
  const refusedByEnclave = failure.layer === 'enclave' && failure.code !== 'ENCLAVE_UNAVAILABLE';
  if (!refusedByEnclave && failure.retryable) {
    if (failure.code === 'INTERNAL')
      ctx.logger.error({ err: error, transferId: record.id }, 'transfer step failed');
    if (onRetryable === 'withdraw') {
      await deleteUnsignedTransfer(db, record.id, [record.status]);
      throw failure;
    }
    if (record.tier === 'delay' && record.status === 'signing') {
      const executeAfter = nowMs + BigInt(RETRY_LATER_MS);
      await transitionTransfer(db, record.id, guard, {
        status: 'delayed',
        execute_after: executeAfter,
        claimed_by: null,
        claimed_until: null,
        updated_at: nowMs,
      });
      ctx.wakeDelayedAt(Number(executeAfter));
      return { ...record, status: 'delayed', executeAfter };
    }
    // Keeps the claim, briefly: the recovery worker picks it up again once it lapses.
    await transitionTransfer(db, record.id, guard, {
      claimed_until: nowMs + BigInt(RETRY_LATER_MS),
      updated_at: nowMs,
    });
    return record;
  }

  const status = refusedByEnclave ? 'rejected' : 'failed';
  const stored = storedError(failure);
  const done: TransferRecord = {
    ...record,
    status,
    countsDaily: false,
    errorCode: stored.error_code,
    errorDetail: stored.error_detail,
    updatedAt: nowMs,
  };
  const type = status === 'rejected' ? 'transfer.rejected' : 'transfer.failed';
  const moved = await transitionRecorded(
    ctx,
    record.id,
    guard,
    { status, counts_daily: 0n, ...stored, updated_at: nowMs },
    { type, transfer: done },
  );
  if (!moved) return record;
  ctx.events.emit(type, done);
  return done;
}
