/**
 * Prometheus metrics. `createMetrics`: the process (prefix waiaas_) and HTTP request durations, per
 * app. `DomainMetrics` (one per runtime, `runtime.services.metrics`): what an operator of a custody service
 * watches and alerts on — transfers by tier and outcome, refusals by layer and code, the latency of a
 * transfer and of its enclave signature and chain confirmation, freezes and monitor alerts, the
 * approval queue, the webhook outbox, the fee payer's balance and the enclave.
 *
 * Counters are per replica (sum them across replicas); the database gauges (approval queue, outbox,
 * wallets) are read at scrape time with a few indexed queries shared by every gauge of one scrape, and
 * describe the whole database (take max across replicas). deploy/grafana/waiaas-dashboard.json shows
 * them.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../../store/index.ts';
import type { TransferRecord } from '../../store/transfers.ts';
import { isPolicyRefusal, TRANSFER_ROUTE } from '../monitor/transfer-watch.ts';
import { classifyError } from '../problem.ts';
import type { Health } from '../routes/health.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { TransferEvent } from '../transfers/events.ts';

/** Prometheus metrics: process defaults plus request latency by route and status. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'waiaas_' });
  const httpDuration = new Histogram({
    name: 'waiaas_http_request_duration_seconds',
    help: 'HTTP request duration by route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  return { registry, httpDuration };
}

export type Metrics = ReturnType<typeof createMetrics>;

export function registerMetrics(app: FastifyInstance, metrics: Metrics, domain?: DomainMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  if (domain) {
    // The server layer refuses before a transfer is stored, so no pipeline event tells of it; the
    // enclave's and the chain's refusals are counted from the events (once, whichever path ran it).
    app.addHook('onError', async (request, _reply, error) => {
      if (request.method !== 'POST' || request.routeOptions.url !== TRANSFER_ROUTE) return;
      const refusal = classifyError(error);
      if (refusal.layer === 'server' && isPolicyRefusal(refusal)) domain.refused('server', refusal.code);
    });
  }
}

/** Outcomes a transfer ends with, as the pipeline's events name them. */
const OUTCOMES = {
  'transfer.confirmed': 'confirmed',
  'transfer.failed': 'failed',
  'transfer.rejected': 'rejected',
  'transfer.cancelled': 'cancelled',
  'transfer.expired': 'expired',
} as const;

const layerOf = (transfer: TransferRecord): string | undefined => {
  if (transfer.errorDetail === null) return undefined;
  try {
    const layer = (JSON.parse(transfer.errorDetail) as { layer?: unknown }).layer;
    return typeof layer === 'string' ? layer : undefined;
  } catch {
    return undefined;
  }
};

/** What one scrape reads from the database, shared by every gauge of that scrape. */
interface DatabaseFigures {
  readonly approvals: { depth: number; oldestCreatedAt: number | null };
  readonly outbox: Record<'pending' | 'delivering' | 'failed' | 'retrying', number>;
  readonly oldestPendingEventAt: number | null;
  readonly wallets: Record<string, number>;
}

const num = (value: bigint | number | string | null | undefined): number =>
  value == null ? 0 : Number(value);

async function readDatabaseFigures(store: Store): Promise<DatabaseFigures> {
  const [approvals, outbox, wallets] = await Promise.all([
    sql<{ depth: bigint | string; oldest: bigint | string | null }>`
      select count(*) as depth, min(created_at) as oldest from transfers where status = 'pending_approval'`.execute(
      store.db,
    ),
    sql<{
      status: string;
      events: bigint | string;
      retrying: bigint | string | null;
      oldest: bigint | string | null;
    }>`
      select status, count(*) as events, sum(case when attempts > 0 then 1 else 0 end) as retrying,
        min(created_at) as oldest
      from webhook_outbox where status in ('pending', 'delivering', 'failed') group by status`.execute(
      store.db,
    ),
    sql<{ status: string; wallets: bigint | string }>`
      select status, count(*) as wallets from wallets group by status`.execute(store.db),
  ]);
  const byStatus = new Map(outbox.rows.map((row) => [row.status, row]));
  const pending = byStatus.get('pending');
  return {
    approvals: {
      depth: num(approvals.rows[0]?.depth),
      oldestCreatedAt: approvals.rows[0]?.oldest == null ? null : num(approvals.rows[0].oldest),
    },
    outbox: {
      pending: num(pending?.events),
      delivering: num(byStatus.get('delivering')?.events),
      failed: num(byStatus.get('failed')?.events),
      retrying: num(pending?.retrying),
    },
    oldestPendingEventAt: pending?.oldest == null ? null : num(pending.oldest),
    wallets: Object.fromEntries(wallets.rows.map((row) => [row.status, num(row.wallets)])),
  };
}

export class DomainMetrics {
  readonly registry = new Registry();
  readonly transfers: Counter<'tier' | 'outcome'>;
  readonly refusals: Counter<'layer' | 'code'>;
  readonly transferSeconds: Histogram<'tier'>;
  readonly enclaveSignSeconds: Histogram<'outcome'>;
  readonly chainConfirmSeconds: Histogram<'outcome'>;
  readonly freezes: Counter<'reason'>;
  readonly monitorAlerts: Counter<'rule'>;
  readonly feePayerLamports: Gauge;
  #figures: Promise<DatabaseFigures> | undefined;
  #restartsCounted = 0;

  constructor(runtime: Pick<Runtime, 'store' | 'enclave'>) {
    const registers = [this.registry];
    this.transfers = new Counter({
      name: 'waiaas_transfers_total',
      help: 'Transfers that reached an outcome, by tier and outcome (confirmed, failed, rejected, cancelled, expired)',
      labelNames: ['tier', 'outcome'] as const,
      registers,
    });
    this.refusals = new Counter({
      name: 'waiaas_refusals_total',
      help: 'Transfers refused by a policy layer (server, enclave, chain), by error code',
      labelNames: ['layer', 'code'] as const,
      registers,
    });
    this.transferSeconds = new Histogram({
      name: 'waiaas_transfer_confirm_seconds',
      help: 'From the request to the transfer confirmed on chain, by tier (delay and approval include their wait)',
      labelNames: ['tier'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.enclaveSignSeconds = new Histogram({
      name: 'waiaas_enclave_sign_seconds',
      help: 'The enclave signing a transfer (L2 included), by outcome (signed, refused, error)',
      labelNames: ['outcome'] as const,
      buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1],
      registers,
    });
    this.chainConfirmSeconds = new Histogram({
      name: 'waiaas_chain_confirm_seconds',
      help: 'From sending a signed transfer to its outcome on chain, by outcome (confirmed, failed, expired, unknown)',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 90],
      registers,
    });
    this.freezes = new Counter({
      name: 'waiaas_wallet_freezes_total',
      help: 'Wallets frozen, by reason (owner, or the monitor rule that fired)',
      labelNames: ['reason'] as const,
      registers,
    });
    this.monitorAlerts = new Counter({
      name: 'waiaas_monitor_alerts_total',
      help: 'Monitor alerts (each froze a wallet on the server), by rule',
      labelNames: ['rule'] as const,
      registers,
    });
    this.feePayerLamports = new Gauge({
      name: 'waiaas_fee_payer_balance_lamports',
      help: "The fee payer's balance as health last read it",
      registers,
    });

    // undefined when the database does not answer: the gauges keep their last values, /metrics answers.
    const figures = () => this.#databaseFigures(runtime.store).catch(() => undefined);
    const nowSeconds = () => Date.now() / 1000;
    new Gauge({
      name: 'waiaas_approval_queue_depth',
      help: 'Transfers waiting for their owner',
      registers,
      async collect() {
        const read = await figures();
        if (read) this.set(read.approvals.depth);
      },
    });
    new Gauge({
      name: 'waiaas_approval_queue_oldest_age_seconds',
      help: 'How long the oldest transfer waiting for its owner has waited (0 when none)',
      registers,
      async collect() {
        const read = await figures();
        if (!read) return;
        const oldest = read.approvals.oldestCreatedAt;
        this.set(oldest === null ? 0 : Math.max(0, nowSeconds() - oldest / 1000));
      },
    });
    new Gauge({
      name: 'waiaas_outbox_events',
      help: 'Webhook deliveries not done: pending (retrying included), delivering, failed (given up)',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const read = await figures();
        if (!read) return;
        for (const status of ['pending', 'delivering', 'failed'] as const)
          this.set({ status }, read.outbox[status]);
      },
    });
    new Gauge({
      name: 'waiaas_outbox_retrying_events',
      help: 'Pending webhook deliveries that already failed at least once',
      registers,
      async collect() {
        const read = await figures();
        if (read) this.set(read.outbox.retrying);
      },
    });
    new Gauge({
      name: 'waiaas_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest pending webhook delivery (0 when none)',
      registers,
      async collect() {
        const read = await figures();
        if (!read) return;
        const oldest = read.oldestPendingEventAt;
        this.set(oldest === null ? 0 : Math.max(0, nowSeconds() - oldest / 1000));
      },
    });
    new Gauge({
      name: 'waiaas_wallets',
      help: 'Wallets by status',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const read = await figures();
        if (!read) return;
        const { wallets } = read;
        this.reset();
        for (const status of ['active', 'frozen', ...Object.keys(wallets)]) {
          this.set({ status }, wallets[status] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'waiaas_enclave_up',
      help: '1 while the enclave process is up',
      registers,
      collect() {
        this.set(runtime.enclave.status().state === 'up' ? 1 : 0);
      },
    });
    const self = this;
    new Counter({
      name: 'waiaas_enclave_restarts_total',
      help: 'Times the enclave process was restarted by its supervisor',
      registers,
      collect() {
        const restarts = runtime.enclave.status().restarts;
        if (restarts > self.#restartsCounted) {
          this.inc(restarts - self.#restartsCounted);
          self.#restartsCounted = restarts;
        }
      },
    });
  }

  /** A transfer pipeline event: outcomes, the enclave's and the chain's refusals, latency. */
  observeTransfer(event: TransferEvent): void {
    const outcome = OUTCOMES[event.type as keyof typeof OUTCOMES];
    if (outcome === undefined) return;
    const { transfer } = event;
    this.transfers.inc({ tier: transfer.tier, outcome });
    if (outcome === 'confirmed') {
      this.transferSeconds.observe(
        { tier: transfer.tier },
        Math.max(0, event.at - Number(transfer.createdAt)) / 1000,
      );
    }
    const layer = layerOf(transfer);
    if ((outcome === 'rejected' && layer === 'enclave') || (outcome === 'failed' && layer === 'chain')) {
      this.refused(layer, transfer.errorCode ?? 'UNKNOWN');
    }
  }

  refused(layer: string, code: string): void {
    this.refusals.inc({ layer, code });
  }

  frozen(reason: string): void {
    this.freezes.inc({ reason });
  }

  alerted(rule: string): void {
    this.monitorAlerts.inc({ rule });
    this.frozen(rule);
  }

  observeHealth(health: Health): void {
    const balance = health.feePayer?.balanceLamports;
    if (balance !== undefined) this.feePayerLamports.set(Number(balance));
  }

  /**
   * One database read for every gauge of a scrape: the registry collects them all at once, so they
   * share the read in flight; once it settles the next scrape reads afresh (and a failed read is
   * not kept).
   */
  #databaseFigures(store: Store): Promise<DatabaseFigures> {
    if (this.#figures === undefined) {
      const read = readDatabaseFigures(store);
      this.#figures = read;
      const forget = () => {
        if (this.#figures === read) this.#figures = undefined;
      };
      read.then(forget, forget);
    }
    return this.#figures;
  }
}
