/** Dry runs: a transfer request checked at every layer, nothing executed or written. */
export { budgetOf } from './budget.ts';
export { chainLayer, RENT_EXEMPT_MINIMUM } from './chain-layer.ts';
export { DryRuns } from './dry-run.ts';
export { EnclaveUsageCache, enclaveLayer } from './enclave-layer.ts';
export { serverLayer } from './server-layer.ts';
export type { DryRunBudget, DryRunResult, LayerName, LayerVerdict, TierRange } from './types.ts';
export { LAYERS } from './types.ts';
