/** Agent sessions: a token bound to one wallet, with expiry and revocation. */
import type { Kysely, Selectable } from 'kysely';
import { type Database, nowMs, type SessionsTable } from './schema.ts';

export interface Session {
  id: string;
  walletId: string;
  label: string | null;
  expiresAt: bigint;
  revokedAt: bigint | null;
  createdAt: bigint;
}

const fromRow = (row: Selectable<SessionsTable>): Session => ({
  id: row.id,
  walletId: row.wallet_id,
  label: row.label,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
  createdAt: row.created_at,
});

export const insertSession = async (
  db: Kysely<Database>,
  params: { id: string; walletId: string; tokenHash: string; label: string | null; expiresAt: bigint },
): Promise<Session> => {
  const createdAt = nowMs();
  await db
    .insertInto('sessions')
    .values({
      id: params.id,
      wallet_id: params.walletId,
      token_hash: params.tokenHash,
      label: params.label,
      expires_at: params.expiresAt,
      revoked_at: null,
      created_at: createdAt,
    })
    .execute();
  return {
    id: params.id,
    walletId: params.walletId,
    label: params.label,
    expiresAt: params.expiresAt,
    revokedAt: null,
    createdAt,
  };
};

export const findSessionByTokenHash = async (
  db: Kysely<Database>,
  tokenHash: string,
): Promise<Session | undefined> => {
  const row = await db
    .selectFrom('sessions')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row && fromRow(row);
};

export const findSession = async (db: Kysely<Database>, id: string): Promise<Session | undefined> => {
  const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && fromRow(row);
};

export const revokeSession = async (db: Kysely<Database>, id: string): Promise<boolean> => {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: nowMs() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
};

/** The wallet's sessions, newest first (revoked and expired ones too: the owner sees what was issued). */
export const listSessionsOfWallet = async (
  db: Kysely<Database>,
  walletId: string,
  limit: number,
): Promise<Session[]> => {
  const rows = await db
    .selectFrom('sessions')
    .selectAll()
    .where('wallet_id', '=', walletId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(fromRow);
};
