/**
 * The monitor (see monitor.ts). One per runtime, built by services.ts: `runtime.services.monitor`;
 * `startDaemon` starts it, tests and benches that build the app themselves start it (or call
 * `runOnce`) when they want it.
 */

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
