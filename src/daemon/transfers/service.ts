/**
 * The transfer pipeline as the daemon uses it: one service per runtime, holding the caches and the
 * workers, started with the HTTP app and stopped with it. Built by services.ts: `runtime.services.transfers`.
 */
import { WaiaasError } from '../../core/errors.ts';
import { privateKeyFromSeed } from '../../keys/ed25519.ts';
import type { Owner } from '../../store/owners.ts';
import {
  findTransfer,
  listPendingApprovals,
  listWalletTransfers,
  type TransferCursor,
  type TransferRecord,
} from '../../store/transfers.ts';
import type { Principal } from '../auth.ts';
import type { DomainMetrics } from '../plugins/metrics.ts';
import type { RuntimeParts } from '../runtime/runtime.ts';
import { approveTransfer } from './approval/approve.ts';
import { cancelTransfer } from './approval/cancel.ts';
import { type Rejection, rejectTransfer } from './approval/reject.ts';
import type { PipelineContext } from './context.ts';
import { TransferEvents } from './events.ts';
import { replicaIdFor } from './replica.ts';
import { SpendTemplates } from './spend-templates.ts';
import { type TransferBody, validateTransfer } from './steps/validate.ts';
import { submitTransfer } from './submit-transfer.ts';
import { TokenAssets } from './token-assets.ts';
import type { FaultHook } from './types.ts';
import { type WalletContext, WalletContexts } from './wallet-context.ts';
import { TransferWorkers } from './workers/scheduler.ts';

export interface TransferServiceOptions {
  /** The server's clock (ms); tests move it to reach deadlines. */
  readonly now?: () => number;
  /** Called after each step; throw PipelineHalt to stop the pipeline there, as a crash would. */
  readonly faults?: FaultHook;
  /** How often the workers look for due, expired and abandoned work (default 1 s). */
  readonly pollIntervalMs?: number;
  /** How long a claim keeps other replicas off a transfer (default 120 s: beyond a blockhash's life). */
  readonly leaseMs?: number;
  readonly replicaId?: string;
  /** How long start() waits for the start-up recovery pass before the API opens anyway (default 10 s). */
  readonly startupWaitMs?: number;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const encodeCursor = (record: TransferRecord): string =>
  Buffer.from(`${record.createdAt}.${record.id}`).toString('base64url');

const decodeCursor = (cursor: string | undefined): TransferCursor | undefined => {
  if (cursor === undefined) return undefined;
  const match = /^(\d{1,20})\.([A-Za-z0-9_-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match)
    throw new WaiaasError('VALIDATION_FAILED', { message: 'Invalid cursor', details: { field: 'cursor' } });
  return { createdAt: BigInt(match[1]!), id: match[2]! };
};

const page = (records: TransferRecord[], limit: number): Page<TransferRecord> => ({
  items: records.slice(0, limit),
  nextCursor: records.length > limit ? encodeCursor(records[limit - 1]!) : null,
});

export class TransferService {
  readonly events: TransferEvents;
  readonly #ctx: Mutable<PipelineContext>;
  readonly #workers: TransferWorkers;
  readonly #startupWaitMs: number;

  constructor(runtime: RuntimeParts, metrics: DomainMetrics, options: TransferServiceOptions = {}) {
    this.events = new TransferEvents((error, event) =>
      runtime.logger.warn({ err: error, event: event.type }, 'a transfer event listener threw'),
    );
    this.#ctx = {
      runtime,
      store: runtime.store,
      chain: runtime.chain,
      logger: runtime.logger,
      metrics,
      replicaId: options.replicaId ?? replicaIdFor(runtime.config.dataDir),
      leaseMs: options.leaseMs ?? 120_000,
      now: options.now ?? Date.now,
      faults: options.faults,
      wallets: new WalletContexts(),
      tokens: new TokenAssets(),
      spends: new SpendTemplates(),
      proposals: runtime.multisigLocks,
      events: this.events,
      feePayer: {
        publicKey: runtime.feePayer.publicKey,
        privateKey: privateKeyFromSeed(runtime.feePayer.secretKey.subarray(0, 32)),
      },
      inFlight: new Map(),
      wakeDelayedAt: (atMs) => this.#workers.wakeAt(atMs),
    };
    this.#workers = new TransferWorkers(this.#ctx, options.pollIntervalMs ?? 1_000);
    this.#startupWaitMs = options.startupWaitMs ?? 10_000;
  }

  get replicaId(): string {
    return this.#ctx.replicaId;
  }

  /** Test hooks: stop the pipeline between steps, move the server's clock. */
  setFaults(hook: FaultHook | undefined): void {
    this.#ctx.faults = hook;
  }

  setClock(now: () => number): void {
    this.#ctx.now = now;
  }

  async #walletFor(principal: Principal | undefined, walletId: string): Promise<WalletContext> {
    const wallet = await this.#ctx.wallets.get(this.#ctx.store.db, walletId);
    const visible =
      wallet !== undefined &&
      ((principal?.role === 'owner' && wallet.ownerId === principal.owner.id) ||
        (principal?.role === 'agent' && principal.session.walletId === wallet.id));
    if (!visible) throw new WaiaasError('NOT_FOUND', { message: `No wallet ${walletId}.` });
    return wallet;
  }

  /** POST /v1/wallets/:id/transfers, after the route's schema. */
  async submit(
    principal: Principal | undefined,
    walletId: string,
    body: TransferBody,
  ): Promise<TransferRecord> {
    const wallet = await this.#walletFor(principal, walletId);
    return submitTransfer(this.#ctx, validateTransfer(walletId, body, wallet.vaultAddress));
  }

  async get(principal: Principal | undefined, transferId: string): Promise<TransferRecord> {
    const record = await findTransfer(this.#ctx.store.db, transferId);
    if (record === undefined) throw new WaiaasError('NOT_FOUND', { message: `No transfer ${transferId}.` });
    try {
      await this.#walletFor(principal, record.walletId);
    } catch {
      throw new WaiaasError('NOT_FOUND', { message: `No transfer ${transferId}.` });
    }
    return record;
  }

  async list(
    principal: Principal | undefined,
    walletId: string,
    options: { cursor?: string | undefined; limit: number },
  ): Promise<Page<TransferRecord>> {
    await this.#walletFor(principal, walletId);
    const records = await listWalletTransfers(
      this.#ctx.store.db,
      walletId,
      options.limit + 1,
      decodeCursor(options.cursor),
    );
    return page(records, options.limit);
  }

  async approvals(
    owner: Owner,
    options: { cursor?: string | undefined; limit: number },
  ): Promise<Page<TransferRecord>> {
    const records = await listPendingApprovals(
      this.#ctx.store.db,
      owner.id,
      options.limit + 1,
      decodeCursor(options.cursor),
    );
    return page(records, options.limit);
  }

  approve(owner: Owner, transferId: string, unlock: string | undefined): Promise<TransferRecord> {
    return approveTransfer(this.#ctx, owner, transferId, unlock);
  }

  reject(owner: Owner, transferId: string, unlock: string | undefined): Promise<Rejection> {
    return rejectTransfer(this.#ctx, owner, transferId, unlock);
  }

  cancel(owner: Owner, transferId: string): Promise<TransferRecord> {
    return cancelTransfer(this.#ctx, owner, transferId);
  }

  /** Forgets what is cached about a wallet (its policy, agent key); the next transfer reads it again. */
  invalidateWallet(walletId: string): void {
    this.#ctx.wallets.invalidate(walletId);
  }

  start(): Promise<void> {
    return this.#workers.start(this.#startupWaitMs);
  }

  /** One round of every worker now (tests, and anyone who knows work just became due). */
  runWorkersOnce(): Promise<void> {
    return this.#workers.tick();
  }

  /** Stops the workers and waits for what this process is driving to settle. */
  async stop(): Promise<void> {
    await this.#workers.stop();
    await Promise.allSettled([...this.#ctx.inFlight.values()]);
  }
}
