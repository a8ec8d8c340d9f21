import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { WaiaasError } from '../../core/errors.ts';
import { insertDeliveries } from '../../store/outbox.ts';
import type { Database } from '../../store/schema.ts';
import { webhooksForWallet } from '../../store/webhooks.ts';
import { scrubDetails } from '../audit/scrub.ts';
import { isWebhookEventType, type WebhookEventType } from './events.ts';

export interface WebhookEvent {
  readonly type: WebhookEventType;
  readonly walletId: string;
  /** Event facts (amounts as strings or bigint); scrubbed of secrets like audit details. */
  readonly data: Record<string, unknown>;
}

export interface EnqueuedEvent {
  readonly eventId: string;
  /** How many webhooks will receive it (0 when the wallet's owner subscribed none to this type). */
  readonly deliveries: number;
}

const newEventId = (): string => `evt_${randomBytes(12).toString('base64url')}`;
const newDeliveryId = (): string => `whd_${randomBytes(12).toString('base64url')}`;

/**
 * Records an event for every webhook of the wallet's owner subscribed to its type, inside the
 * caller's write transaction: the event exists exactly when the state change does, and the delivery
 * worker sends it after the commit (at least once). Cost: one indexed select, plus one insert when
 * anyone is subscribed.
 */
export async function enqueueEvent(trx: Kysely<Database>, event: WebhookEvent): Promise<EnqueuedEvent> {
  if (!isWebhookEventType(event.type)) {
    throw new WaiaasError('INTERNAL', {
      message: 'Unknown webhook event type.',
      details: { type: event.type },
    });
  }
  const eventId = newEventId();
  const webhooks = (await webhooksForWallet(trx, event.walletId)).filter(
    (webhook) => webhook.events === null || webhook.events.includes(event.type),
  );
  if (webhooks.length === 0) return { eventId, deliveries: 0 };
  const now = BigInt(Date.now());
  const body = JSON.stringify({
    id: eventId,
    type: event.type,
    createdAt: new Date(Number(now)).toISOString(),
    walletId: event.walletId,
    data: scrubDetails(event.data),
  });
  await insertDeliveries(
    trx,
    webhooks.map((webhook) => ({
      id: newDeliveryId(),
      eventId,
      webhookId: webhook.id,
      walletId: event.walletId,
      type: event.type,
      body,
      now,
    })),
  );
  return { eventId, deliveries: webhooks.length };
}
