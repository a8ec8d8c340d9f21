/**
 * The daemon's use cases, built once per runtime by `startRuntime`, after the runtime's parts (store,
 * chain, enclave, owner keys, locks) they act through. Built in dependency order: the domain metrics
 * first (the pipeline, the payments and the monitor record into them), then the caches that need only
 * the parts (principals, chain snapshots), then the transfer service, the payments that share its
 * replica id and events, the dry runs, and last the monitor. Routes, plugins, workers and benches reach
 * them as `runtime.services.*`; their options are given here, once, so no caller depends on being first.
 * Building them starts nothing: the HTTP app starts and stops the transfer workers, `startDaemon` the
 * monitor.
 */
import { DryRuns } from './dry-run/dry-run.ts';
import { ChainSnapshots } from './exposure/chain-snapshot.ts';
import { createMonitor, type Monitor } from './monitor/monitor.ts';
import { DomainMetrics } from './plugins/metrics.ts';
import { PrincipalCache } from './principal-cache.ts';
import { haltInEnclave } from './runtime/enclave-halt.ts';
import type { RuntimeParts } from './runtime/runtime.ts';
import type { PipelineContext } from './transfers/context.ts';
import { TransferService, type TransferServiceOptions } from './transfers/service.ts';
import { createPaymentContext } from './x402/context.ts';

export interface ServiceOptions {
  readonly transfers?: TransferServiceOptions;
}

export interface Services {
  /** What an operator watches (plugins/metrics.ts); shared by the app, the pipeline and the monitor. */
  readonly metrics: DomainMetrics;
  /** Principals resolved from bearer tokens, cached per replica (principal-cache.ts). */
  readonly principals: PrincipalCache;
  /** Briefly cached reads of a wallet's multisig (exposure/chain-snapshot.ts). */
  readonly chainSnapshots: ChainSnapshots;
  /** The transfer pipeline and its workers (transfers/service.ts). */
  readonly transfers: TransferService;
  /** The pipeline parts x402 payments and float acts run through (x402/context.ts). */
  readonly payments: PipelineContext;
  /** Transfer requests checked at each layer without acting (dry-run/dry-run.ts). */
  readonly dryRuns: DryRuns;
  /** Alerts and enclave halts from the audit feed and the chain (monitor/monitor.ts). */
  readonly monitor: Monitor;
}

export function buildServices(runtime: RuntimeParts, options: ServiceOptions = {}): Services {
  const metrics = new DomainMetrics(runtime);
  const principals = new PrincipalCache(runtime.store);
  const chainSnapshots = new ChainSnapshots(runtime.chain.connection);
  const transfers = new TransferService(runtime, metrics, options.transfers);
  const payments = createPaymentContext(runtime, metrics, transfers);
  const dryRuns = new DryRuns(runtime, chainSnapshots);
  const monitor = createMonitor({
    store: runtime.store,
    logger: runtime.logger,
    config: runtime.config.monitor,
    connection: runtime.chain.connection,
    haltInEnclave: (walletId, rule) => haltInEnclave(runtime, walletId, rule),
    onAlert: (alert) => metrics.alerted(alert.rule),
  });
  return { metrics, principals, chainSnapshots, transfers, payments, dryRuns, monitor };
}
