/**
 * A transfer's state change stored together with its audit entry and webhook event, in one write
 * transaction: the change, the entry and the event exist all three or none (notifier/transfer-events.ts).
 */
import type { TransferRecord, TransitionGuard } from '../../../store/transfers.ts';
import { transitionTransfer } from '../../../store/transfers.ts';
import type { AuditActor } from '../../audit/index.ts';
import { type RecordedTransferEvent, recordTransferEvent } from '../../notifier/transfer-events.ts';
import type { PipelineContext } from '../context.ts';

export interface RecordedChange {
  readonly type: RecordedTransferEvent;
  /** The transfer as it is once the change is stored. */
  readonly transfer: TransferRecord;
  readonly actor?: AuditActor;
}

/** transitionTransfer, plus the event it is, atomically; false (and nothing recorded) when the guard did not match. */
export function transitionRecorded(
  ctx: Pick<PipelineContext, 'store'>,
  id: string,
  guard: TransitionGuard,
  changes: Parameters<typeof transitionTransfer>[3],
  event: RecordedChange,
): Promise<boolean> {
  return ctx.store.writeTransaction(async (trx) => {
    if (!(await transitionTransfer(trx, id, guard, changes))) return false;
    await recordTransferEvent(trx, event.type, event.transfer, event.actor);
    return true;
  });
}
