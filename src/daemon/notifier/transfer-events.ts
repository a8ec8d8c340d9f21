/**
 * A transfer's state change as the audit log and the owner's webhooks record it: one audit entry and
 * one event per change, written inside the very write transaction that stores the change (the
 * pipeline's own, see transfers/steps/record-event.ts), so a crash can lose neither, and neither can
 * exist without the change. The actor is who made the change: the owner for a cancel, a rejection
 * or an approval; the daemon itself (`system`) for what the pipeline and its workers do.
 *
 * A notify-tier confirmation is one entry and one event (`transfer.confirmed`, tier "notify"): the
 * pipeline's in-memory `transfer.notify` is for listeners in this process and records nothing more.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { TransferRecord } from '../../store/transfers.ts';
import { type AuditActor, appendAudit } from '../audit/index.ts';
import type { AuditKind } from '../audit/kinds.ts';
import { enqueueEvent } from './enqueue.ts';
import type { WebhookEventType } from './events.ts';

export type RecordedTransferEvent =
  | 'transfer.confirmed'
  | 'transfer.delayed'
  | 'transfer.pending_approval'
  | 'transfer.failed'
  | 'transfer.rejected'
  | 'transfer.cancelled'
  | 'transfer.expired'
  | 'approval.approved';

const mapping: Record<RecordedTransferEvent, { audit: AuditKind; webhook: WebhookEventType }> = {
  'transfer.confirmed': { audit: 'transfer.confirmed', webhook: 'transfer.confirmed' },
  'transfer.delayed': { audit: 'transfer.received', webhook: 'transfer.delayed' },
  'transfer.pending_approval': { audit: 'approval.requested', webhook: 'approval.requested' },
  'transfer.failed': { audit: 'transfer.failed', webhook: 'transfer.failed' },
  'transfer.rejected': { audit: 'transfer.rejected', webhook: 'transfer.rejected' },
  'transfer.cancelled': { audit: 'transfer.cancelled', webhook: 'transfer.cancelled' },
  'transfer.expired': { audit: 'transfer.expired', webhook: 'transfer.expired' },
  'approval.approved': { audit: 'approval.approved', webhook: 'approval.approved' },
};

export const systemActor: AuditActor = { role: 'system' };

export const publicTransfer = (transfer: TransferRecord) => ({
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

/**
 * The audit entry and the webhook event of one state change of `transfer` (as it is after the
 * change). `trx` is the write transaction that made the change; nothing may run in it after this
 * (the audit append holds the chain head until commit).
 */
export async function recordTransferEvent(
  trx: Kysely<Database>,
  type: RecordedTransferEvent,
  transfer: TransferRecord,
  actor: AuditActor = systemActor,
): Promise<void> {
  const { audit, webhook } = mapping[type];
  const facts = publicTransfer(transfer);
  await enqueueEvent(trx, { type: webhook, walletId: transfer.walletId, data: facts });
  await appendAudit(trx, {
    kind: audit,
    actor,
    walletId: transfer.walletId,
    subject: transfer.id,
    details: facts,
  });
}
