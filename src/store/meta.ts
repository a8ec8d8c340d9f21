/** Small facts about this database, one text value per key. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Keys written by migration 0001: a random UUID naming this database, and when it was created (ms). */
export const META_INSTANCE_ID = 'instance_id';
export const META_CREATED_AT = 'created_at';

export const getMeta = async (db: Kysely<Database>, key: string): Promise<string | undefined> => {
  const row = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
};

/** Inserts or replaces. */
export const setMeta = async (db: Kysely<Database>, key: string, value: string): Promise<void> => {
  await db
    .insertInto('meta')
    .values({ key, value })
    .onConflict((conflict) => conflict.column('key').doUpdateSet({ value }))
    .execute();
};
