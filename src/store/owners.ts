/** Owners: who holds an Owner Key, where that key lives, and the hash of their API token. */
import type { Kysely, Selectable } from 'kysely';
import type { OwnerSignerConfig } from '../keys/index.ts';
import { type Database, nowMs, type OwnersTable } from './schema.ts';

export interface Owner {
  id: string;
  name: string;
  signer: OwnerSignerConfig;
  publicKey: string;
  createdAt: bigint;
}

const fromRow = (row: Selectable<OwnersTable>): Owner => ({
  id: row.id,
  name: row.name,
  signer: JSON.parse(row.signer_config) as OwnerSignerConfig,
  publicKey: row.public_key,
  createdAt: row.created_at,
});

export interface InsertOwnerParams {
  id: string;
  name: string;
  signer: OwnerSignerConfig;
  publicKey: string;
  tokenHash: string;
}

export const insertOwner = async (db: Kysely<Database>, params: InsertOwnerParams): Promise<Owner> => {
  const createdAt = nowMs();
  await db
    .insertInto('owners')
    .values({
      id: params.id,
      name: params.name,
      signer_kind: params.signer.kind,
      signer_config: JSON.stringify(params.signer),
      public_key: params.publicKey,
      token_hash: params.tokenHash,
      created_at: createdAt,
    })
    .execute();
  return { id: params.id, name: params.name, signer: params.signer, publicKey: params.publicKey, createdAt };
};

export const findOwnerById = async (db: Kysely<Database>, id: string): Promise<Owner | undefined> => {
  const row = await db.selectFrom('owners').selectAll().where('id', '=', id).executeTakeFirst();
  return row && fromRow(row);
};

export const findOwnerByTokenHash = async (
  db: Kysely<Database>,
  tokenHash: string,
): Promise<Owner | undefined> => {
  const row = await db
    .selectFrom('owners')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row && fromRow(row);
};

export const listOwners = async (db: Kysely<Database>): Promise<Owner[]> =>
  (await db.selectFrom('owners').selectAll().orderBy('created_at').orderBy('id').execute()).map(fromRow);
