/**
 * What an owner act leaves besides its own state: an entry in the audit chain and, when the owner may
 * want to hear of it, an event for their webhooks. Both are written inside the caller's write
 * transaction, so they exist exactly when the state change does.
 */
import type { Kysely } from 'kysely';
import type { Owner } from '../../store/index.ts';
import type { Database } from '../../store/schema.ts';
import { type AuditActor, type AuditKind, appendAudit } from '../audit/index.ts';
import { enqueueEvent, type WebhookEventType } from '../notifier/index.ts';

export interface ActRecord {
  readonly kind: AuditKind;
  readonly actor: AuditActor;
  readonly walletId: string;
  /** The owner act's id (owner_acts.id), when there is one. */
  readonly subject?: string | undefined;
  readonly details: Record<string, unknown>;
  readonly event?: { readonly type: WebhookEventType; readonly data: Record<string, unknown> } | undefined;
}

export const ownerActor = (owner: Pick<Owner, 'id'>): AuditActor => ({ role: 'owner', id: owner.id });

/** The daemon acting on its own (the monitor). */
export const systemActor: AuditActor = { role: 'system' };

/** `trx` must come from `store.writeTransaction`; nothing else may run in it after this. */
export async function recordAct(trx: Kysely<Database>, record: ActRecord): Promise<void> {
  if (record.event) {
    await enqueueEvent(trx, { type: record.event.type, walletId: record.walletId, data: record.event.data });
  }
  // Last: the append holds the chain head's lock until the transaction ends.
  await appendAudit(trx, {
    kind: record.kind,
    actor: record.actor,
    walletId: record.walletId,
    subject: record.subject,
    details: record.details,
  });
}

/** A layer's outcome as recorded: no error messages (they may quote RPC answers at length). */
export const outcomeFacts = (outcome: {
  readonly status: string;
  readonly signature?: string | undefined;
  readonly error?: { readonly code: string } | undefined;
}) => ({
  status: outcome.status,
  ...(outcome.signature === undefined ? {} : { signature: outcome.signature }),
  ...(outcome.error === undefined ? {} : { errorCode: outcome.error.code }),
});
