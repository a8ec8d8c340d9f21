import type { FastifyReply, FastifyRequest } from 'fastify';
import { WaiaasError } from '../core/errors.ts';
import { hashToken } from '../core/tokens.ts';
import {
  findActiveOperatorTokenByHash,
  findOwnerByTokenHash,
  findSessionByTokenHash,
  type Owner,
  type Session,
  type Store,
} from '../store/index.ts';
import type { PrincipalCache } from './principal-cache.ts';

export type Principal =
  | { readonly role: 'operator' }
  | { readonly role: 'owner'; readonly owner: Owner }
  | { readonly role: 'agent'; readonly session: Session };

export type Role = Principal['role'];

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export const bearerToken = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
};

/**
 * Token prefixes say which table to look in (one indexed query); a token without a known prefix can
 * only be an operator token supplied through WAIAAS_MASTER_TOKEN. Uncached: requests go through
 * principal-cache.ts.
 */
export async function resolvePrincipal(store: Store, token: string, nowMs = Date.now()): Promise<Principal> {
  return resolvePrincipalByHash(store, token, hashToken(token), nowMs);
}

export async function resolvePrincipalByHash(
  store: Store,
  token: string,
  tokenHash: string,
  nowMs = Date.now(),
): Promise<Principal> {
  if (token.startsWith('waiaas_own_')) {
    const owner = await findOwnerByTokenHash(store.db, tokenHash);
    if (owner) return { role: 'owner', owner };
  } else if (token.startsWith('waiaas_ses_')) {
    const session = await findSessionByTokenHash(store.db, tokenHash);
    if (session) {
      if (session.revokedAt !== null) throw new WaiaasError('SESSION_REVOKED');
      if (session.expiresAt <= BigInt(nowMs)) throw new WaiaasError('SESSION_EXPIRED');
      return { role: 'agent', session };
    }
  } else if (await findActiveOperatorTokenByHash(store.db, tokenHash)) {
    return { role: 'operator' };
  }
  throw new WaiaasError('UNAUTHORIZED');
}

/**
 * A preHandler admitting only the given roles; the principal is left on the request. `principals`:
 * the replica's principal cache (`runtime.services.principals`).
 */
export const requireRole = (principals: Pick<PrincipalCache, 'resolve'>, ...roles: Role[]) => {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = bearerToken(request);
    if (token === undefined) throw new WaiaasError('UNAUTHORIZED', { message: 'Send a bearer token.' });
    const principal = await principals.resolve(token);
    if (!roles.includes(principal.role)) throw new WaiaasError('FORBIDDEN');
    request.principal = principal;
  };
};

/** The owner's second factor for an owner-key act, from X-Owner-Unlock. */
export const ownerUnlock = (request: FastifyRequest): string | undefined => {
  const value = request.headers['x-owner-unlock'];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};
