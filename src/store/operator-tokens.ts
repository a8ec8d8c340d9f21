/**
 * Operator tokens (the master token `waiaas init` prints once). Only their hash is stored; callers
 * hash with `hashToken` from core/tokens.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Database, nowMs, type OperatorTokensTable } from './schema.ts';

export interface OperatorToken {
  id: string;
  tokenHash: string;
  label: string;
  /** Epoch milliseconds. */
  createdAt: bigint;
  /** Epoch milliseconds; null while the token is valid. */
  revokedAt: bigint | null;
}

export interface InsertOperatorTokenParams {
  tokenHash: string;
  label: string;
  /** Defaults to a random UUID. */
  id?: string;
  /** Defaults to now. */
  createdAt?: bigint;
}

const fromRow = (row: Selectable<OperatorTokensTable>): OperatorToken => ({
  id: row.id,
  tokenHash: row.token_hash,
  label: row.label,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

/** Fails with the engine's unique-violation error if the hash is already stored. */
export const insertOperatorToken = async (
  db: Kysely<Database>,
  params: InsertOperatorTokenParams,
): Promise<OperatorToken> => {
  const token: OperatorToken = {
    id: params.id ?? randomUUID(),
    tokenHash: params.tokenHash,
    label: params.label,
    createdAt: params.createdAt ?? nowMs(),
    revokedAt: null,
  };
  await db
    .insertInto('operator_tokens')
    .values({
      id: token.id,
      token_hash: token.tokenHash,
      label: token.label,
      created_at: token.createdAt,
      revoked_at: null,
    })
    .execute();
  return token;
};

/** Revoked tokens are returned too (with `revokedAt` set): the caller must refuse them. */
export const findOperatorTokenByHash = async (
  db: Kysely<Database>,
  tokenHash: string,
): Promise<OperatorToken | undefined> => {
  const row = await db
    .selectFrom('operator_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row === undefined ? undefined : fromRow(row);
};

/** The token if it exists and is not revoked: what authentication needs. */
export const findActiveOperatorTokenByHash = async (
  db: Kysely<Database>,
  tokenHash: string,
): Promise<OperatorToken | undefined> => {
  const token = await findOperatorTokenByHash(db, tokenHash);
  return token?.revokedAt === null ? token : undefined;
};

/** True if this call revoked it; false if there is no such token or it was already revoked. */
export const revokeOperatorToken = async (
  db: Kysely<Database>,
  id: string,
  at: bigint = nowMs(),
): Promise<boolean> => {
  const result = await db
    .updateTable('operator_tokens')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
};

/** Whether any operator token is still valid: `waiaas init` issues a new one only when none is. */
export const hasActiveOperatorToken = async (db: Kysely<Database>): Promise<boolean> =>
  (await db
    .selectFrom('operator_tokens')
    .select('id')
    .where('revoked_at', 'is', null)
    .limit(1)
    .executeTakeFirst()) !== undefined;
