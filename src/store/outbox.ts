/**
 * The webhook outbox: one row per (event, subscribed webhook), written in the transaction that
 * produced the event, delivered later by the notifier's worker. Status:
 *   pending -> delivering (claimed by one worker until claimed_until) -> delivered
 *                                                                     -> pending (retry later)
 *                                                                     -> failed (attempts used up)
 *   pending | delivering -> cancelled (webhook deleted)
 * A `delivering` row whose claim ran out (a worker died mid-attempt) is due again.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { StoreEngine } from './engine.ts';
import type { Database, Int8 } from './schema.ts';

export type DeliveryStatus = 'pending' | 'delivering' | 'delivered' | 'failed' | 'cancelled';

export interface WebhookOutboxTable {
  id: string;
  event_id: string;
  webhook_id: string;
  wallet_id: string | null;
  type: string;
  body: string;
  status: DeliveryStatus;
  attempts: Int8;
  next_attempt_at: Int8;
  claimed_by: string | null;
  claimed_until: bigint | null;
  last_status_code: bigint | null;
  last_error: string | null;
  created_at: Int8;
  updated_at: Int8;
  delivered_at: bigint | null;
}

declare module './schema.ts' {
  interface Database {
    webhook_outbox: WebhookOutboxTable;
  }
}

export type DeliveryRow = Selectable<WebhookOutboxTable>;

export interface NewDelivery {
  id: string;
  eventId: string;
  webhookId: string;
  walletId: string | null;
  type: string;
  body: string;
  now: bigint;
}

export const insertDeliveries = async (
  trx: Kysely<Database>,
  deliveries: readonly NewDelivery[],
): Promise<void> => {
  if (deliveries.length === 0) return;
  await trx
    .insertInto('webhook_outbox')
    .values(
      deliveries.map((delivery) => ({
        id: delivery.id,
        event_id: delivery.eventId,
        webhook_id: delivery.webhookId,
        wallet_id: delivery.walletId,
        type: delivery.type,
        body: delivery.body,
        status: 'pending' as const,
        attempts: 0n,
        next_attempt_at: delivery.now,
        claimed_by: null,
        claimed_until: null,
        last_status_code: null,
        last_error: null,
        created_at: delivery.now,
        updated_at: delivery.now,
        delivered_at: null,
      })),
    )
    .execute();
};

const dueCondition = (now: bigint) => sql<boolean>`((status = 'pending' and next_attempt_at <= ${now})
    or (status = 'delivering' and claimed_until < ${now}))`;

/** A cheap read before claiming, so an idle worker does not take the write lock at every poll. */
export const hasDueDeliveries = async (db: Kysely<Database>, now: bigint): Promise<boolean> =>
  (await db
    .selectFrom('webhook_outbox')
    .select('id')
    .where(dueCondition(now))
    .limit(1)
    .executeTakeFirst()) !== undefined;

export interface ClaimParams {
  workerId: string;
  now: bigint;
  /** The claim lasts this long: longer than one attempt's timeout, so no two workers overlap. */
  leaseMs: number;
  limit: number;
}

/**
 * Claims up to `limit` due rows for one worker and counts the attempt. `trx` is a write transaction:
 * on PostgreSQL the due rows are locked with FOR UPDATE SKIP LOCKED (another replica claiming at the
 * same moment skips them); on SQLite the transaction's BEGIN IMMEDIATE serialises claimers, and the
 * UPDATE repeats the due condition so a row is claimed only while it is still due.
 */
export const claimDueDeliveries = async (
  trx: Kysely<Database>,
  engine: StoreEngine,
  { workerId, now, leaseMs, limit }: ClaimParams,
): Promise<DeliveryRow[]> => {
  const due = dueCondition(now);
  let select = trx
    .selectFrom('webhook_outbox')
    .select('id')
    .where(due)
    .orderBy('next_attempt_at')
    .limit(limit);
  if (engine === 'postgres') select = select.forUpdate().skipLocked();
  const ids = (await select.execute()).map((row) => row.id);
  if (ids.length === 0) return [];
  return trx
    .updateTable('webhook_outbox')
    .set({
      status: 'delivering',
      claimed_by: workerId,
      claimed_until: now + BigInt(leaseMs),
      attempts: sql<bigint>`attempts + 1`,
      updated_at: now,
    })
    .where('id', 'in', ids)
    .where(due)
    .returningAll()
    .execute();
};

export type DeliveryOutcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'retry'; nextAttemptAt: bigint; statusCode: number | null; error: string }
  | { kind: 'failed'; statusCode: number | null; error: string }
  | { kind: 'cancelled'; error: string };

/** Records an attempt's outcome, only while this worker still holds the claim; false otherwise. */
export const finishDelivery = async (
  db: Kysely<Database>,
  id: string,
  workerId: string,
  outcome: DeliveryOutcome,
  now: bigint,
): Promise<boolean> => {
  const common = { claimed_by: null, claimed_until: null, updated_at: now };
  const values =
    outcome.kind === 'delivered'
      ? {
          ...common,
          status: 'delivered' as const,
          delivered_at: now,
          last_status_code: BigInt(outcome.statusCode),
          last_error: null,
        }
      : outcome.kind === 'retry'
        ? {
            ...common,
            status: 'pending' as const,
            next_attempt_at: outcome.nextAttemptAt,
            last_status_code: outcome.statusCode === null ? null : BigInt(outcome.statusCode),
            last_error: outcome.error,
          }
        : outcome.kind === 'failed'
          ? {
              ...common,
              status: 'failed' as const,
              last_status_code: outcome.statusCode === null ? null : BigInt(outcome.statusCode),
              last_error: outcome.error,
            }
          : { ...common, status: 'cancelled' as const, last_error: outcome.error };
  const result = await db
    .updateTable('webhook_outbox')
    .set(values)
    .where('id', '=', id)
    .where('claimed_by', '=', workerId)
    .where('status', '=', 'delivering')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
};

/** A webhook's deliveries, newest first; `before` is the created_at/id cursor of the previous page. */
export const deliveriesOfWebhook = (
  db: Kysely<Database>,
  webhookId: string,
  query: { status?: DeliveryStatus | undefined; before?: { createdAt: bigint; id: string }; limit: number },
): Promise<DeliveryRow[]> => {
  let select = db.selectFrom('webhook_outbox').selectAll().where('webhook_id', '=', webhookId);
  if (query.status !== undefined) select = select.where('status', '=', query.status);
  const { before } = query;
  if (before !== undefined) {
    select = select.where((eb) =>
      eb.or([
        eb('created_at', '<', before.createdAt),
        eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
      ]),
    );
  }
  return select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
};

/** Stops whatever is still to be sent to a deleted webhook. */
export const cancelPendingDeliveries = async (db: Kysely<Database>, webhookId: string, now: bigint) => {
  await db
    .updateTable('webhook_outbox')
    .set({ status: 'cancelled', last_error: 'webhook deleted', updated_at: now })
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'pending')
    .execute();
};

/** Sends a dead-lettered delivery again from its first attempt; false unless it had failed. */
export const redeliver = async (db: Kysely<Database>, id: string, webhookId: string, now: bigint) => {
  const result = await db
    .updateTable('webhook_outbox')
    .set({ status: 'pending', attempts: 0n, next_attempt_at: now, last_error: null, updated_at: now })
    .where('id', '=', id)
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
};
