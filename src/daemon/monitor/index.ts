/**
 * The monitor (see monitor.ts). One per runtime: `monitorOf(runtime)` finds it; `startDaemon` starts
 * it, tests and benches that build the app themselves start it (or call `runOnce`) when they want it.
 */

import { domainMetricsOf } from '../plugins/metrics.ts';
import { haltInEnclave } from '../runtime/enclave-halt.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { createMonitor, type Monitor } from './monitor.ts';

export { createMonitor, type Monitor, type MonitorDeps } from './monitor.ts';
export { RecentEvents } from './recent-events.ts';
export {
  type Alert,
  bypassAlert,
  type MonitorRule,
  refusalAlert,
  restartAlert,
  velocityAlert,
} from './rules.ts';
export {
  isPolicyRefusal,
  registerTransferWatch,
  TRANSFER_ROUTE,
  type TransferWatchOptions,
  transferWatchPlugin,
} from './transfer-watch.ts';

const monitors = new WeakMap<Runtime, Monitor>();

/** The runtime's monitor, made (not started) on first use, with the runtime's configuration. */
export function monitorOf(runtime: Runtime): Monitor {
  let monitor = monitors.get(runtime);
  if (!monitor) {
    const metrics = domainMetricsOf(runtime);
    monitor = createMonitor({
      store: runtime.store,
      logger: runtime.logger,
      config: runtime.config.monitor,
      connection: runtime.chain.connection,
      haltInEnclave: (walletId, rule) => haltInEnclave(runtime, walletId, rule),
      onAlert: (alert) => metrics.alerted(alert.rule),
    });
    monitors.set(runtime, monitor);
  }
  return monitor;
}
