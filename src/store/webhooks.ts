/** Webhook subscriptions of owners. The signing secret is stored sealed (see daemon/notifier/secret-box.ts). */
import type { ColumnType, Kysely, Selectable } from 'kysely';
import { type Database, type Int8, nowMs } from './schema.ts';

export interface WebhooksTable {
  id: string;
  owner_id: string;
  url: string;
  /** JSON array of event types; null subscribes to every event. */
  events: string | null;
  secret_sealed: string;
  created_at: Int8;
  deleted_at: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
}

declare module './schema.ts' {
  interface Database {
    webhooks: WebhooksTable;
  }
}

export interface Webhook {
  id: string;
  ownerId: string;
  url: string;
  /** null: every event. */
  events: string[] | null;
  secretSealed: string;
  createdAt: bigint;
}

const fromRow = (row: Selectable<WebhooksTable>): Webhook => ({
  id: row.id,
  ownerId: row.owner_id,
  url: row.url,
  events: row.events === null ? null : (JSON.parse(row.events) as string[]),
  secretSealed: row.secret_sealed,
  createdAt: row.created_at,
});

export const insertWebhook = async (
  db: Kysely<Database>,
  params: { id: string; ownerId: string; url: string; events: string[] | null; secretSealed: string },
): Promise<Webhook> => {
  const createdAt = nowMs();
  await db
    .insertInto('webhooks')
    .values({
      id: params.id,
      owner_id: params.ownerId,
      url: params.url,
      events: params.events === null ? null : JSON.stringify(params.events),
      secret_sealed: params.secretSealed,
      created_at: createdAt,
      deleted_at: null,
    })
    .execute();
  return { ...params, createdAt };
};

/** A live (not deleted) webhook. */
export const findWebhook = async (db: Kysely<Database>, id: string): Promise<Webhook | undefined> => {
  const row = await db
    .selectFrom('webhooks')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row && fromRow(row);
};

export const listWebhooksOfOwner = async (db: Kysely<Database>, ownerId: string): Promise<Webhook[]> =>
  (
    await db
      .selectFrom('webhooks')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .where('deleted_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
  ).map(fromRow);

export const countWebhooksOfOwner = async (db: Kysely<Database>, ownerId: string): Promise<number> => {
  const row = await db
    .selectFrom('webhooks')
    .select((eb) => eb.fn.countAll<string | number | bigint>().as('count'))
    .where('owner_id', '=', ownerId)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
};

/** The live webhooks of the owner of `walletId`. */
export const webhooksForWallet = async (db: Kysely<Database>, walletId: string): Promise<Webhook[]> =>
  (
    await db
      .selectFrom('webhooks')
      .innerJoin('wallets', 'wallets.owner_id', 'webhooks.owner_id')
      .selectAll('webhooks')
      .where('wallets.id', '=', walletId)
      .where('webhooks.deleted_at', 'is', null)
      .execute()
  ).map(fromRow);

/** Live webhooks by id (deleted ones are absent from the map). */
export const webhooksByIds = async (
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<Map<string, Webhook>> => {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('webhooks')
    .selectAll()
    .where('id', 'in', [...ids])
    .where('deleted_at', 'is', null)
    .execute();
  return new Map(rows.map((row) => [row.id, fromRow(row)]));
};

/** Soft delete, so its delivery history stays readable; true when it was live. */
export const deleteWebhook = async (db: Kysely<Database>, id: string): Promise<boolean> => {
  const result = await db
    .updateTable('webhooks')
    .set({ deleted_at: nowMs() })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
};
