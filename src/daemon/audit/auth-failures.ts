import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { Principal } from '../auth.ts';
import { classifyError } from '../problem.ts';
import { appendAudit } from './append.ts';
import type { AuditActor } from './kinds.ts';

/** Refusals of who the caller is or what their credentials allow; policy refusals are not among them. */
const authFailureCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'UNAUTHORIZED',
  'FORBIDDEN',
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'OWNER_UNLOCK_REQUIRED',
  'OWNER_UNLOCK_INVALID',
  'KEYSTORE_WRONG_PASSPHRASE',
  'OWNER_UNLOCK_THROTTLED',
]);

/** Which kind of credential was presented: the prefix only, never the token. */
const presentedBearer = (request: FastifyRequest): string => {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header.length === 0) return 'none';
  const token = /^Bearer\s+(\S+)/i.exec(header)?.[1];
  if (token === undefined) return 'malformed';
  if (token.startsWith('waiaas_own_')) return 'owner';
  if (token.startsWith('waiaas_ses_')) return 'session';
  if (token.startsWith('waiaas_op_')) return 'operator';
  return 'other';
};

const actorOf = (principal: Principal | undefined): { actor: AuditActor; walletId?: string } => {
  switch (principal?.role) {
    case 'owner':
      return { actor: { role: 'owner', id: principal.owner.id } };
    case 'agent':
      return { actor: { role: 'agent', id: principal.session.id }, walletId: principal.session.walletId };
    case 'operator':
      return { actor: { role: 'operator' } };
    default:
      return { actor: { role: 'anonymous' } };
  }
};

/**
 * Appends `auth.failure` for every 401/403 answer that refuses credentials (missing, unknown, revoked
 * or expired token; wrong role; missing or wrong owner second factor), with the route pattern, the
 * caller's IP and the kind of credential presented, never the credential itself.
 *
 * Register on the root app (a direct call, not `app.register`) so that it sees every route. It runs in
 * Fastify's onError hook, before the answer is sent: a failed attempt costs one audit write, which
 * also slows down guessing. A failure to write is logged and does not change the answer.
 */
export function registerAuthFailureAudit(app: FastifyInstance, store: Pick<Store, 'writeTransaction'>): void {
  app.addHook('onError', async (request, _reply, error) => {
    const classified = classifyError(error);
    if (!authFailureCodes.has(classified.code)) return;
    const { actor, walletId } = actorOf(request.principal);
    try {
      await store.writeTransaction((trx) =>
        appendAudit(trx, {
          kind: 'auth.failure',
          actor,
          walletId,
          details: {
            code: classified.code,
            method: request.method,
            route: request.routeOptions.url ?? null,
            ip: request.ip,
            bearer: presentedBearer(request),
          },
        }),
      );
    } catch (appendError) {
      request.log.error({ err: appendError }, 'could not append auth.failure to the audit log');
    }
  });
}
