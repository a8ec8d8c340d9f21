/**
 * The pipeline parts x402 payments and float acts run through: the runtime's chain, store and fee
 * payer, the transfer service's replica id and events (so a payment is audited and notified like a
 * transfer), and caches of their own. One per runtime, built by services.ts: `runtime.services.payments`.
 */
import { privateKeyFromSeed } from '../../keys/ed25519.ts';
import type { DomainMetrics } from '../plugins/metrics.ts';
import type { RuntimeParts } from '../runtime/runtime.ts';
import type { PipelineContext } from '../transfers/context.ts';
import type { TransferService } from '../transfers/service.ts';
import { SpendTemplates } from '../transfers/spend-templates.ts';
import { TokenAssets } from '../transfers/token-assets.ts';
import { WalletContexts } from '../transfers/wallet-context.ts';

export function createPaymentContext(
  runtime: RuntimeParts,
  metrics: DomainMetrics,
  transfers: Pick<TransferService, 'replicaId' | 'events'>,
): PipelineContext {
  return {
    runtime,
    store: runtime.store,
    chain: runtime.chain,
    logger: runtime.logger,
    metrics,
    replicaId: transfers.replicaId,
    leaseMs: 120_000,
    now: Date.now,
    faults: undefined,
    wallets: new WalletContexts(),
    tokens: new TokenAssets(),
    spends: new SpendTemplates(),
    proposals: runtime.multisigLocks,
    events: transfers.events,
    feePayer: {
      publicKey: runtime.feePayer.publicKey,
      privateKey: privateKeyFromSeed(runtime.feePayer.secretKey.subarray(0, 32)),
    },
    inFlight: new Map(),
    // Nothing x402 makes is delayed: its limits keep every payment and fill in the instant or notify tier.
    wakeDelayedAt: () => {},
  };
}
