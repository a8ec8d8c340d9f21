/**
 * The request path: validate (the route) → idempotency + L1 + reservation → by tier: instant and
 * notify signed and sent at once; delay shown to the enclave and left to the delayed worker; approval
 * proposed on chain and left to the owner.
 */
import type { TransferRecord } from '../../store/transfers.ts';
import { propose } from './approval/propose.ts';
import { type PipelineContext, reachedStep } from './context.ts';
import { showDelayedToEnclave } from './delay-first-sight.ts';
import { executeSpend } from './execute-spend.ts';
import { settled } from './steps/idempotency.ts';
import { reserve } from './steps/reserve.ts';
import { track } from './track.ts';
import type { TransferRequest } from './types.ts';

export async function submitTransfer(
  ctx: PipelineContext,
  request: TransferRequest,
): Promise<TransferRecord> {
  const reservation = await reserve(ctx, request);
  if (reservation.kind === 'existing') return settled(ctx, reservation.record);
  const { record, wallet } = reservation;
  return track(ctx, record.id, async () => {
    await reachedStep(ctx, 'reserved', record);
    switch (record.status) {
      case 'signing':
        return executeSpend(ctx, record, wallet, 'withdraw');
      case 'received':
        return propose(ctx, record, wallet, 'withdraw');
      case 'delayed': {
        const seen = await showDelayedToEnclave(ctx, record, wallet);
        if (seen.status === 'delayed') {
          ctx.events.emit('transfer.delayed', seen);
          if (seen.executeAfter !== null) ctx.wakeDelayedAt(Number(seen.executeAfter));
        }
        return seen;
      }
      default:
        return record;
    }
  });
}
