/**
 * Agent sessions: issued by a wallet's owner (the token shown once, only its hash stored) and revoked
 * by them at once. Each change is one write transaction with its audit entry; the SQL lives in
 * src/store. Another owner's session answers exactly as a session that does not exist.
 */
import { randomBytes } from 'node:crypto';
import { WaiaasError } from '../../core/errors.ts';
import { generateToken, hashToken } from '../../core/tokens.ts';
import {
  findSession,
  findWallet,
  insertSession,
  listSessionsOfWallet,
  type Owner,
  revokeSession,
  type Session,
  type Store,
} from '../../store/index.ts';
import { appendAudit } from '../audit/index.ts';

export const MAX_SESSION_SECONDS = 90 * 24 * 3600;

export interface IssuedSession {
  readonly id: string;
  /** Shown to the owner this once. */
  readonly token: string;
  readonly expiresAt: Date;
}

const ownedWallet = async (store: Store, owner: Pick<Owner, 'id'>, walletId: string) => {
  const wallet = await findWallet(store.db, walletId);
  if (wallet === undefined || wallet.ownerId !== owner.id) {
    throw new WaiaasError('NOT_FOUND', { message: `No wallet ${walletId}.` });
  }
  return wallet;
};

export async function issueSession(
  store: Store,
  owner: Pick<Owner, 'id'>,
  walletId: string,
  params: { ttlSeconds: number; label?: string | undefined },
): Promise<IssuedSession> {
  const wallet = await ownedWallet(store, owner, walletId);
  const token = generateToken('waiaas_ses_');
  const expiresAt = BigInt(Date.now() + params.ttlSeconds * 1000);
  const session = await store.writeTransaction(async (trx) => {
    const created = await insertSession(trx, {
      id: `ses_${randomBytes(9).toString('base64url')}`,
      walletId: wallet.id,
      tokenHash: hashToken(token),
      label: params.label ?? null,
      expiresAt,
    });
    await appendAudit(trx, {
      kind: 'session.created',
      actor: { role: 'owner', id: owner.id },
      walletId: wallet.id,
      subject: created.id,
      details: { expiresAt: new Date(Number(expiresAt)).toISOString(), label: created.label },
    });
    return created;
  });
  return { id: session.id, token, expiresAt: new Date(Number(expiresAt)) };
}

/** Revokes the owner's session `sessionId`; revoking it again changes nothing and is no error. */
export async function revokeOwnedSession(
  store: Store,
  owner: Pick<Owner, 'id'>,
  sessionId: string,
): Promise<void> {
  const session = await findSession(store.db, sessionId);
  const wallet = session && (await findWallet(store.db, session.walletId));
  if (session === undefined || wallet === undefined || wallet.ownerId !== owner.id) {
    throw new WaiaasError('NOT_FOUND', { message: `No session ${sessionId}.` });
  }
  await store.writeTransaction(async (trx) => {
    if (!(await revokeSession(trx, session.id))) return;
    await appendAudit(trx, {
      kind: 'session.revoked',
      actor: { role: 'owner', id: owner.id },
      walletId: wallet.id,
      subject: session.id,
    });
  });
}

/** The owner's wallet's sessions, newest first, revoked and expired ones included. */
export async function listWalletSessions(
  store: Store,
  owner: Pick<Owner, 'id'>,
  walletId: string,
  limit: number,
): Promise<Session[]> {
  const wallet = await ownedWallet(store, owner, walletId);
  return listSessionsOfWallet(store.db, wallet.id, limit);
}
