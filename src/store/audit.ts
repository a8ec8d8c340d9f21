/**
 * The audit log's rows: an append-only hash chain (`audit_log`) and its one-row head (`audit_head`).
 * The chain rules (what is hashed, how appends serialise) live in src/daemon/audit; this file only
 * reads and writes rows.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, Int8 } from './schema.ts';

export interface AuditLogTable {
  sequence: Int8;
  /** Epoch ms. */
  at: Int8;
  kind: string;
  actor_role: string;
  actor_id: string | null;
  /** The owner the entry concerns when it is not (only) a wallet's: owner acts, owner creation. */
  owner_id: string | null;
  wallet_id: string | null;
  subject: string | null;
  /** Canonical JSON of the scrubbed details, hashed exactly as stored. */
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: string;
  sequence: Int8;
  hash: string;
}

declare module './schema.ts' {
  interface Database {
    audit_log: AuditLogTable;
    audit_head: AuditHeadTable;
  }
}

export type AuditRow = Selectable<AuditLogTable>;

const HEAD_ID = 'chain';

/**
 * Takes the next sequence number and returns it with the previous hash. The UPDATE takes the head
 * row's lock on PostgreSQL (held until the caller's transaction ends, so appends from every replica
 * queue here); on SQLite the caller's BEGIN IMMEDIATE already serialises writers.
 */
export const claimAuditSequence = async (
  trx: Kysely<Database>,
): Promise<{ sequence: bigint; prevHash: string }> => {
  const row = await trx
    .updateTable('audit_head')
    .set({ sequence: sql<bigint>`sequence + 1` })
    .where('id', '=', HEAD_ID)
    .returning(['sequence', 'hash'])
    .executeTakeFirstOrThrow();
  return { sequence: row.sequence, prevHash: row.hash };
};

export const insertAuditRow = async (trx: Kysely<Database>, row: AuditRow): Promise<void> => {
  await trx.insertInto('audit_log').values(row).execute();
};

export const setAuditHeadHash = async (trx: Kysely<Database>, hash: string): Promise<void> => {
  await trx.updateTable('audit_head').set({ hash }).where('id', '=', HEAD_ID).execute();
};

export const readAuditHead = async (db: Kysely<Database>): Promise<{ sequence: bigint; hash: string }> =>
  db
    .selectFrom('audit_head')
    .select(['sequence', 'hash'])
    .where('id', '=', HEAD_ID)
    .executeTakeFirstOrThrow();

/** Rows with sequence > `after`, ascending; for walking the whole chain in pages. */
export const auditRowsAfter = (db: Kysely<Database>, after: bigint, limit: number): Promise<AuditRow[]> =>
  db
    .selectFrom('audit_log')
    .selectAll()
    .where('sequence', '>', after)
    .orderBy('sequence', 'asc')
    .limit(limit)
    .execute();

export interface AuditPageQuery {
  /** Only entries about this owner: theirs (owner_id) or about one of their wallets. */
  ownerId?: string | undefined;
  walletId?: string | undefined;
  kind?: string | undefined;
  /** Entries with sequence below this (newest first). */
  before?: bigint | undefined;
  limit: number;
}

/** Newest first. */
export const auditPage = (db: Kysely<Database>, query: AuditPageQuery): Promise<AuditRow[]> => {
  let select = db.selectFrom('audit_log').selectAll();
  const { ownerId } = query;
  if (ownerId !== undefined) {
    select = select.where((eb) =>
      eb.or([
        eb('owner_id', '=', ownerId),
        eb('wallet_id', 'in', eb.selectFrom('wallets').select('id').where('owner_id', '=', ownerId)),
      ]),
    );
  }
  if (query.walletId !== undefined) select = select.where('wallet_id', '=', query.walletId);
  if (query.kind !== undefined) select = select.where('kind', '=', query.kind);
  if (query.before !== undefined) select = select.where('sequence', '<', query.before);
  return select.orderBy('sequence', 'desc').limit(query.limit).execute();
};

/**
 * The entries after `after` that concern the owner (theirs, or about one of their wallets), oldest
 * first: the live feed of the owner console, tailed by sequence so every replica's entries are seen.
 */
export const auditRowsAfterForOwner = (
  db: Kysely<Database>,
  query: { ownerId: string; after: bigint; limit: number },
): Promise<AuditRow[]> =>
  db
    .selectFrom('audit_log')
    .selectAll()
    .where('sequence', '>', query.after)
    .where((eb) =>
      eb.or([
        eb('owner_id', '=', query.ownerId),
        eb('wallet_id', 'in', eb.selectFrom('wallets').select('id').where('owner_id', '=', query.ownerId)),
      ]),
    )
    .orderBy('sequence', 'asc')
    .limit(query.limit)
    .execute();
