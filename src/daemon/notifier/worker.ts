import { randomBytes } from 'node:crypto';
import {
  claimDueDeliveries,
  type DeliveryOutcome,
  type DeliveryRow,
  finishDelivery,
  hasDueDeliveries,
} from '../../store/outbox.ts';
import type { Store } from '../../store/store.ts';
import { webhooksByIds } from '../../store/webhooks.ts';
import type { Logger } from '../logger.ts';
import { retryDelayMs } from './backoff.ts';
import { attemptDelivery } from './deliver.ts';
import { openWebhookSecret, type WebhookSecretKey } from './secret-box.ts';
import { type DestinationRules, emptyAllowList, systemResolver } from './webhook-url.ts';

export interface DeliveryOptions {
  /** How often to look for due deliveries when idle (default 1000 ms). */
  pollMs?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Attempts before a delivery is dead-lettered as `failed` (default 10). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, with jitter (default 5 s). */
  backoffBaseMs?: number;
  /** Longest retry delay (default 1 h). */
  backoffCapMs?: number;
  /** Deliveries claimed (and sent in parallel) at once (default 16). */
  batchSize?: number;
  /** Names this worker in claims; defaults to a random id. */
  workerId?: string;
}

export interface DeliveryWorkerDeps {
  store: Store;
  logger: Pick<Logger, 'warn' | 'error'>;
  secretKey: WebhookSecretKey;
  /** Where deliveries may connect; default: public addresses only, the system resolver. */
  rules?: DestinationRules;
}

export interface DeliveryWorker {
  readonly workerId: string;
  /** Claims and attempts one batch of due deliveries; resolves with how many it claimed. */
  runOnce(): Promise<number>;
  /** Look again now rather than at the next poll (e.g. after committing an event). */
  wake(): void;
  start(): void;
  /** Stops polling, aborts attempts in flight (they count as failed attempts and are retried). */
  stop(): Promise<void>;
}

/**
 * The outbox's delivery worker. Every replica runs one; a delivery is claimed by one worker at a time
 * (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE and a conditional update on SQLite) for longer
 * than an attempt may take, so no row is ever sent by two workers at once. A delivery is marked
 * `delivered` only after a 2xx: a crash or a lost answer means the event is sent again later, with
 * the same event id (at least once). After `maxAttempts` it is dead-lettered (`failed`), visible in
 * GET /v1/webhooks/:id/deliveries and sent again on request.
 */
export function createDeliveryWorker(
  deps: DeliveryWorkerDeps,
  options: DeliveryOptions = {},
): DeliveryWorker {
  const pollMs = options.pollMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 10;
  const backoff = { baseMs: options.backoffBaseMs ?? 5000, capMs: options.backoffCapMs ?? 3_600_000 };
  const batchSize = options.batchSize ?? 16;
  const workerId = options.workerId ?? `wrk_${randomBytes(6).toString('base64url')}`;
  const leaseMs = timeoutMs + 5000;
  const rules = deps.rules ?? { allow: emptyAllowList, resolve: systemResolver };
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;

  const outcomeOf = (
    row: DeliveryRow,
    result: Awaited<ReturnType<typeof attemptDelivery>>,
  ): DeliveryOutcome => {
    if (result.ok) return { kind: 'delivered', statusCode: result.statusCode };
    if (Number(row.attempts) >= maxAttempts)
      return { kind: 'failed', statusCode: result.statusCode, error: result.error };
    return {
      kind: 'retry',
      nextAttemptAt: BigInt(Date.now() + retryDelayMs(Number(row.attempts), backoff)),
      statusCode: result.statusCode,
      error: result.error,
    };
  };

  const deliver = async (row: DeliveryRow, url: string, secret: string): Promise<void> => {
    const result = await attemptDelivery({
      url,
      secret,
      eventId: row.event_id,
      body: row.body,
      timeoutMs,
      rules,
      signal: stopping.signal,
    });
    const outcome = outcomeOf(row, result);
    const recorded = await finishDelivery(deps.store.db, row.id, workerId, outcome, BigInt(Date.now()));
    if (outcome.kind === 'failed') {
      deps.logger.warn(
        {
          webhookId: row.webhook_id,
          deliveryId: row.id,
          eventId: row.event_id,
          attempts: Number(row.attempts),
          error: outcome.error,
        },
        'webhook delivery failed for good (dead-lettered)',
      );
    } else if (!recorded) {
      deps.logger.warn(
        { deliveryId: row.id },
        'webhook delivery outcome not recorded: the claim had run out',
      );
    }
  };

  const runOnce = async (): Promise<number> => {
    if (!(await hasDueDeliveries(deps.store.db, BigInt(Date.now())))) return 0;
    const claimed = await deps.store.writeTransaction((trx) =>
      claimDueDeliveries(trx, deps.store.engine, {
        workerId,
        now: BigInt(Date.now()),
        leaseMs,
        limit: batchSize,
      }),
    );
    if (claimed.length === 0) return 0;
    const webhooks = await webhooksByIds(deps.store.db, [...new Set(claimed.map((row) => row.webhook_id))]);
    await Promise.all(
      claimed.map(async (row) => {
        try {
          const webhook = webhooks.get(row.webhook_id);
          if (!webhook) {
            await finishDelivery(
              deps.store.db,
              row.id,
              workerId,
              { kind: 'cancelled', error: 'webhook deleted' },
              BigInt(Date.now()),
            );
            return;
          }
          await deliver(
            row,
            webhook.url,
            openWebhookSecret(deps.secretKey, webhook.id, webhook.secretSealed),
          );
        } catch (error) {
          // Counted as a failed attempt, so a delivery that can never be sent ends dead-lettered.
          deps.logger.error({ err: error, deliveryId: row.id }, 'webhook delivery attempt crashed');
          const outcome = outcomeOf(row, {
            ok: false,
            statusCode: null,
            error: 'internal error before sending',
          });
          await finishDelivery(deps.store.db, row.id, workerId, outcome, BigInt(Date.now())).catch(
            () => false,
          );
        }
      }),
    );
    return claimed.length;
  };

  const loop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      let claimed = 0;
      try {
        claimed = await runOnce();
      } catch (error) {
        deps.logger.error({ err: error }, 'webhook delivery worker could not claim deliveries');
      }
      if (claimed >= batchSize || stopping.signal.aborted) continue;
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
        timer = setTimeout(resolve, pollMs);
      });
      wakeUp = undefined;
    }
  };

  return {
    workerId,
    runOnce,
    wake: () => {
      clearTimeout(timer);
      wakeUp?.();
    },
    start: () => {
      running ??= loop();
    },
    stop: async () => {
      stopping.abort();
      clearTimeout(timer);
      wakeUp?.();
      await running;
    },
  };
}
