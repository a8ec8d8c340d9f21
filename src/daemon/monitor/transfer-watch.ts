/**
 * What the monitor learns from the transfer route itself, without a hook inside the pipeline:
 *   - every policy refusal of POST /v1/wallets/:id/transfers (an answer carrying the refusing
 *     `layer`) is appended to the audit log as `transfer.refused`, with who asked and what, which is
 *     also what the repeated-refusals and outside-hours rules count;
 *   - every accepted transfer (200 or 202) marks its wallet for the spending-velocity rule.
 * Registered on the root app (a plugin that skips encapsulation), so it sees the transfer routes
 * whichever plugin declares them.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WaiaasError } from '../../core/errors.ts';
import type { Store } from '../../store/index.ts';
import { type AuditActor, appendAudit } from '../audit/index.ts';
import { classifyError } from '../problem.ts';

export const TRANSFER_ROUTE = '/v1/wallets/:id/transfers';

/** A refusal by a policy layer: 403 with a layer, or the chain refusing what the layers let through. */
export const isPolicyRefusal = (error: WaiaasError): boolean =>
  error.layer !== undefined && (error.status === 403 || error.code === 'CHAIN_REJECTED');

const isTransferRequest = (request: FastifyRequest): boolean =>
  request.method === 'POST' && request.routeOptions.url === TRANSFER_ROUTE;

const actorOf = (request: FastifyRequest): AuditActor => {
  const principal = request.principal;
  if (principal?.role === 'agent') return { role: 'agent', id: principal.session.id };
  if (principal?.role === 'owner') return { role: 'owner', id: principal.owner.id };
  return { role: principal?.role ?? 'anonymous' };
};

const walletIdOf = (request: FastifyRequest): string | undefined => {
  const id = (request.params as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
};

export interface TransferWatchOptions {
  readonly store: Pick<Store, 'writeTransaction'>;
  /** Called with the wallet of every accepted transfer. */
  readonly onAccepted?: (walletId: string) => void;
}

export function registerTransferWatch(app: FastifyInstance, options: TransferWatchOptions): void {
  app.addHook('onError', async (request, _reply, error) => {
    if (!isTransferRequest(request)) return;
    const refusal = classifyError(error);
    const walletId = walletIdOf(request);
    if (!isPolicyRefusal(refusal) || walletId === undefined) return;
    const body = (request.body ?? {}) as { to?: unknown; amount?: unknown; mint?: unknown };
    try {
      await options.store.writeTransaction((trx) =>
        appendAudit(trx, {
          kind: 'transfer.refused',
          actor: actorOf(request),
          walletId,
          details: {
            code: refusal.code,
            layer: refusal.layer ?? null,
            asset: typeof body.mint === 'string' ? body.mint : 'SOL',
            amount: typeof body.amount === 'string' ? body.amount : null,
            to: typeof body.to === 'string' ? body.to : null,
          },
        }),
      );
    } catch (appendError) {
      request.log.error({ err: appendError }, 'could not append transfer.refused to the audit log');
    }
  });
  if (options.onAccepted) {
    const onAccepted = options.onAccepted;
    app.addHook('onResponse', async (request, reply) => {
      if (!isTransferRequest(request) || (reply.statusCode !== 200 && reply.statusCode !== 202)) return;
      const walletId = walletIdOf(request);
      if (walletId !== undefined) onAccepted(walletId);
    });
  }
}

/** The watch as a route-list plugin whose hooks reach the whole app. */
export const transferWatchPlugin = (options: TransferWatchOptions): FastifyPluginAsync => {
  const plugin: FastifyPluginAsync = async (app) => registerTransferWatch(app, options);
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
};
