/**
 * Every restart of the agent enclave goes into the audit log (`enclave.restarted`, system actor): an
 * enclave that keeps dying may be under attack through the transactions it parses, and the monitor
 * watches these entries.
 */
import type { Store } from '../../store/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { EnclaveSupervisor } from '../enclave-supervisor.ts';
import type { Logger } from '../logger.ts';

/** Subscribes to the supervisor's state events; returns the unsubscribe. */
export function auditEnclaveRestarts(
  enclave: EnclaveSupervisor,
  store: Pick<Store, 'writeTransaction'>,
  logger: Pick<Logger, 'error'>,
): () => void {
  const onStarting = () => {
    const status = enclave.status();
    // The first start is not a restart; every later spawn follows an exit.
    if (status.restarts === 0) return;
    const lastExit = status.lastExit && {
      code: status.lastExit.code,
      signal: status.lastExit.signal,
      at: status.lastExit.at.toISOString(),
    };
    store
      .writeTransaction((trx) =>
        appendAudit(trx, {
          kind: 'enclave.restarted',
          actor: { role: 'system' },
          details: {
            restarts: status.restarts,
            lastExit: lastExit ?? null,
            lastError: status.lastError ?? null,
          },
        }),
      )
      .catch((error: unknown) =>
        logger.error({ err: error }, 'could not append enclave.restarted to the audit log'),
      );
  };
  enclave.on('starting', onStarting);
  return () => enclave.off('starting', onStarting);
}
