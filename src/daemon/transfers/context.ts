/** Everything the pipeline's steps share: the runtime's parts, the caches, the clock and the hooks. */
import type { KeyObject } from 'node:crypto';
import type { PublicKey } from '@solana/web3.js';
import type { ChainClient } from '../../solana/chain-client.ts';
import type { Store } from '../../store/store.ts';
import type { TransferRecord } from '../../store/transfers.ts';
import type { MultisigLocks } from '../locks/multisig-locks.ts';
import type { Logger } from '../logger.ts';
import type { DomainMetrics } from '../plugins/metrics.ts';
import type { RuntimeParts } from '../runtime/runtime.ts';
import type { TransferEvents } from './events.ts';
import type { SpendTemplates } from './spend-templates.ts';
import type { TokenAssets } from './token-assets.ts';
import type { FaultHook, PipelineStep } from './types.ts';
import type { WalletContexts } from './wallet-context.ts';

export interface PipelineContext {
  readonly runtime: RuntimeParts;
  readonly store: Store;
  readonly chain: ChainClient;
  readonly logger: Logger;
  /** The runtime's domain metrics: the pipeline times its enclave signatures and chain confirmations. */
  readonly metrics: Pick<DomainMetrics, 'enclaveSignSeconds' | 'chainConfirmSeconds'>;
  /** Who claims work in the database: stable for one data directory across restarts. */
  readonly replicaId: string;
  /** How long a claim keeps other replicas off a transfer that is being worked on. */
  readonly leaseMs: number;
  /** Milliseconds since the epoch: the server's clock for windows, delays and expiries. */
  now(): number;
  readonly faults: FaultHook | undefined;
  readonly wallets: WalletContexts;
  readonly tokens: TokenAssets;
  readonly spends: SpendTemplates;
  /** Serialises proposals per wallet across replicas (each takes the multisig's next transaction index). */
  readonly proposals: Pick<MultisigLocks, 'run'>;
  readonly events: TransferEvents;
  readonly feePayer: { readonly publicKey: PublicKey; readonly privateKey: KeyObject };
  /** Transfers this process is driving right now, so a retry can wait on the same work. */
  readonly inFlight: Map<string, Promise<TransferRecord>>;
  /** Asks the delayed worker to look again at `atMs`. */
  wakeDelayedAt(atMs: number): void;
}

export const nowBig = (ctx: Pick<PipelineContext, 'now'>): bigint => BigInt(ctx.now());

export async function reachedStep(ctx: PipelineContext, step: PipelineStep, transfer: TransferRecord) {
  if (ctx.faults) await ctx.faults(step, transfer);
}
