/**
 * Transfer state changes → the audit log and webhook outbox. The pipeline emits its events after
 * each state is stored; they are recorded here in batches (one write transaction per ~25 ms) so the
 * audit chain's single head does not serialise every transfer on the request path.
 *
 * Not atomic with the state change: a crash in the ~25 ms between a stored state and its batch loses
 * that event's audit entry and webhook (the transfer row itself is intact). Closing that gap means
 * writing both inside the pipeline's transactions; noted for a later change.
 */
import type { Store } from '../../store/index.ts';
import type { TransferRecord } from '../../store/transfers.ts';
import { appendAudit } from '../audit/index.ts';
import type { AuditKind } from '../audit/kinds.ts';
import type { Logger } from '../logger.ts';
import type { TransferEvent, TransferEventType } from '../transfers/events.ts';
import { enqueueEvent } from './enqueue.ts';
import type { WebhookEventType } from './events.ts';

const mapping: Record<TransferEventType, { audit: AuditKind; webhook?: WebhookEventType }> = {
  'transfer.confirmed': { audit: 'transfer.confirmed', webhook: 'transfer.confirmed' },
  // The notify tier's confirmation: the owner hears of it through transfer.confirmed (tier "notify").
  'transfer.notify': { audit: 'transfer.confirmed' },
  'transfer.delayed': { audit: 'transfer.received', webhook: 'transfer.delayed' },
  'transfer.pending_approval': { audit: 'approval.requested', webhook: 'approval.requested' },
  'transfer.failed': { audit: 'transfer.failed', webhook: 'transfer.failed' },
  'transfer.rejected': { audit: 'transfer.rejected', webhook: 'transfer.rejected' },
  'transfer.cancelled': { audit: 'transfer.cancelled', webhook: 'transfer.cancelled' },
  'transfer.expired': { audit: 'transfer.expired', webhook: 'transfer.expired' },
};

const publicTransfer = (transfer: TransferRecord) => ({
  id: transfer.id,
  walletId: transfer.walletId,
  status: transfer.status,
  tier: transfer.tier,
  ...(transfer.kind !== 'transfer' ? { kind: transfer.kind } : {}),
  asset: transfer.asset,
  amount: transfer.amount.toString(),
  to: transfer.destination,
  ...(transfer.signature ? { signature: transfer.signature } : {}),
  ...(transfer.errorCode ? { error: transfer.errorCode } : {}),
});

export interface TransferEventRecorder {
  record(event: TransferEvent): void;
  /** Writes what is queued now (shutdown, tests). */
  flush(): Promise<void>;
}

export function createTransferEventRecorder(
  store: Store,
  logger: Logger,
  intervalMs = 25,
): TransferEventRecorder {
  let queue: TransferEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const write = async (batch: TransferEvent[]) => {
    await store.writeTransaction(async (trx) => {
      for (const event of batch) {
        const { webhook } = mapping[event.type];
        if (webhook)
          await enqueueEvent(trx, {
            type: webhook,
            walletId: event.transfer.walletId,
            data: publicTransfer(event.transfer),
          });
      }
      // The audit appends last: they hold the chain head until commit.
      for (const event of batch) {
        const { audit } = mapping[event.type];
        await appendAudit(trx, {
          kind: audit,
          actor: { role: 'system' },
          walletId: event.transfer.walletId,
          subject: event.transfer.id,
          details: publicTransfer(event.transfer),
        });
      }
    });
  };

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return writing;
    writing = writing
      .then(() => write(batch))
      .catch((error) =>
        logger.error({ err: error, events: batch.length }, 'could not record transfer events'),
      );
    return writing;
  };

  return {
    record(event) {
      queue.push(event);
      timer ??= setTimeout(() => void flush(), intervalMs);
    },
    flush,
  };
}
