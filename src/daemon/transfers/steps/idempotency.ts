/**
 * Step 2: a request under an idempotency key already used. Same body: the same transfer, and once it
 * has settled, the same answer (a retry while the first is still in flight waits for it). Another
 * body: 409 IDEMPOTENCY_CONFLICT, and nothing happens.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WaiaasError } from '../../../core/errors.ts';
import { findTransfer, IN_FLIGHT_STATUSES, type TransferRecord } from '../../../store/transfers.ts';
import { type PipelineContext, reachedStep } from '../context.ts';
import type { TransferRequest } from '../types.ts';

const POLL_MS = 20;
export const SETTLE_WAIT_MS = 30_000;

export function sameRequest(existing: TransferRecord, request: TransferRequest): TransferRecord {
  if (existing.requestHash !== request.requestHash) {
    throw new WaiaasError('IDEMPOTENCY_CONFLICT', {
      details: { transferId: existing.id, idempotencyKey: request.idempotencyKey },
    });
  }
  return existing;
}

const inFlight = (record: TransferRecord) => IN_FLIGHT_STATUSES.includes(record.status);

/**
 * The transfer once nobody is working on it, or as it stands after `timeoutMs`. Work in this process
 * is awaited directly; work in another replica is polled. A transfer removed meanwhile (its first
 * attempt failed before anything was signed) rethrows that attempt's error, or NOT_FOUND.
 */
export async function settled(
  ctx: PipelineContext,
  record: TransferRecord,
  timeoutMs = SETTLE_WAIT_MS,
): Promise<TransferRecord> {
  if (!inFlight(record)) return record;
  await reachedStep(ctx, 'retry-waiting', record);
  const local = ctx.inFlight.get(record.id);
  let firstError: unknown;
  if (local) {
    try {
      const done = await local;
      if (!inFlight(done)) return done;
    } catch (error) {
      firstError = error;
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await findTransfer(ctx.store.db, record.id);
    if (current === undefined) {
      throw firstError ?? new WaiaasError('NOT_FOUND', { message: `Transfer ${record.id} was withdrawn.` });
    }
    if (!inFlight(current) || Date.now() >= deadline) return current;
    await sleep(POLL_MS);
  }
}
