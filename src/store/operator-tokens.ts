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

/** Every operator token, oldest first, revoked ones included (never their hashes' preimages). */
export const listOperatorTokens = async (db: Kysely<Database>): Promise<OperatorToken[]> =>
  (await db.selectFrom('operator_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(
    fromRow,
  );

export const findOperatorToken = async (
  db: Kysely<Database>,
  id: string,
): Promise<OperatorToken | undefined> => {
  const row = await db.selectFrom('operator_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : fromRow(row);
};

export const countActiveOperatorTokens = async (db: Kysely<Database>): Promise<number> => {
  const row = await db
    .selectFrom('operator_tokens')
    .select((eb) => eb.fn.countAll<string | number | bigint>().as('count'))
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
};

/**
 * The token given in WAIAAS_MASTER_TOKEN (its hash) becomes the one token under `label`: the others
 * still valid under that label are revoked, so a changed variable replaces the old token instead of
 * adding to it. Tokens issued otherwise (`waiaas init`, POST /v1/operator-tokens) are left alone.
 * Returns what it did; call it inside a write transaction.
 */
export const adoptOperatorToken = async (
  db: Kysely<Database>,
  tokenHash: string,
  label: string,
  at: bigint = nowMs(),
): Promise<{ inserted: boolean; revoked: string[]; refused: boolean }> => {
  const existing = await findOperatorTokenByHash(db, tokenHash);
  // A token revoked once stays revoked, even set again (it may be the leaked one a rotation replaced);
  // the token in force is then kept, not revoked for a value that will not be accepted.
  if (existing?.revokedAt != null) return { inserted: false, revoked: [], refused: true };
  const stale = await db
    .updateTable('operator_tokens')
    .set({ revoked_at: at })
    .where('label', '=', label)
    .where('revoked_at', 'is', null)
    .where('token_hash', '!=', tokenHash)
    .returning('id')
    .execute();
  if (existing === undefined) await insertOperatorToken(db, { tokenHash, label, createdAt: at });
  return { inserted: existing === undefined, revoked: stale.map((row) => row.id), refused: false };
};
