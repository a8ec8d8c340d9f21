/**
 * Which enclave instance signs for a wallet (DESIGN §6: replicas are stateless, enclaves are the
 * signers). Every wallet is served by exactly one instance at a time, named in `wallet_assignments`;
 * any replica routes the wallet's signs and state changes (policy, halt, keys, usage) to that instance,
 * so its L2 counters are the only ones and a change is acknowledged only once that instance applied it.
 *
 *   - A wallet nobody serves yet (a new one) goes to the instance of the replica that first touches it.
 *   - Another replica's instance is reached at its endpoint (a Unix socket on this host) with the
 *     deployment's channel key, and used only after its attestation verified (code measurement, nonce).
 *   - An instance whose heartbeat is older than `staleAfterMs` is gone: the first replica that needs
 *     one of its wallets recovers it into its own instance from the sealed key, the newest checkpoint
 *     and the chain's spending limit (runtime/enclave-recovery.ts), then moves the assignment (a
 *     compare-and-set, so one replica wins). A wallet this instance cannot open stays where it was.
 *     Spends the lost instance signed after its last checkpoint and that the chain does not show yet
 *     are not in the new counters: L1 (the database's reservations) and L3 (the chain's limit) still
 *     hold them. An instance stopped on purpose is marked gone at once (retireEnclaveInstance).
 */
import { WaiaasError } from '../core/errors.ts';
import {
  assignWallet,
  type EnclaveInstance,
  enclaveInstanceById,
  heartbeatEnclaveInstance,
  moveWallet,
  type Store,
} from '../store/index.ts';
import { EnclaveClient } from './enclave-client.ts';
import type { EnclaveSupervisor } from './enclave-supervisor.ts';
import { replicaIdFor } from './transfers/replica.ts';

const HEARTBEAT_MS = 2_000;

/** The enclave instance a data directory's replica runs, as `enclave_instances` and assignments name it. */
export const enclaveInstanceIdFor = (dataDir: string): string =>
  `enc_${replicaIdFor(dataDir).slice('rep_'.length)}`;

export interface EnclaveRouterOptions {
  readonly store: Store;
  /** This replica's own instance. */
  readonly own: EnclaveSupervisor;
  readonly instanceId: string;
  readonly channelKey: Uint8Array;
  /** Checks another instance's attestation on a fresh connection; throwing keeps it unused. */
  readonly verifyRemote: (client: EnclaveClient, instance: EnclaveInstance) => Promise<void>;
  /** Brings a wallet this replica just took over into its own instance. */
  readonly takeOver: (walletId: string) => Promise<void>;
  /** Another instance this long without a heartbeat is gone (config `enclave_instance_stale_ms`). */
  readonly staleAfterMs: number;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

interface Remote {
  readonly endpoint: string;
  readonly client: EnclaveClient;
  readonly verified: Promise<void>;
}

export class EnclaveRouter {
  readonly instanceId: string;
  readonly #options: EnclaveRouterOptions;
  readonly #staleAfterMs: number;
  readonly #now: () => number;
  readonly #remotes = new Map<string, Remote>();
  /**
   * Wallets known to be served here, read without asking the database on the signing path. Another
   * replica can move a wallet away only once this instance's heartbeat went stale, which needs the
   * instance down (it beats only while up): so the set is emptied whenever the instance leaves `up`.
   */
  readonly #servedHere = new Set<string>();
  readonly #forget = () => this.#servedHere.clear();
  /** Takeovers under way here (never rejecting): calls for the wallet wait for them, then look again. */
  readonly #takingOver = new Map<string, Promise<void>>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(options: EnclaveRouterOptions) {
    this.#options = options;
    this.instanceId = options.instanceId;
    this.#staleAfterMs = options.staleAfterMs;
    this.#now = options.now ?? Date.now;
    for (const state of ['starting', 'down', 'stopped']) options.own.on(state, this.#forget);
  }

  /** Keeps this replica's instance marked alive while it is up (and only then). */
  startHeartbeat(): void {
    const beat = () => {
      if (this.#options.own.status().state !== 'up') return;
      heartbeatEnclaveInstance(this.#options.store.db, this.instanceId, this.#now()).catch((error: unknown) =>
        this.#options.log?.(`enclave router: heartbeat failed: ${(error as Error).message}`),
      );
    };
    this.#heartbeat = setInterval(beat, Math.min(HEARTBEAT_MS, Math.floor(this.#staleAfterMs / 3)));
    this.#heartbeat.unref();
  }

  /** Runs `call` on the instance that serves `walletId`. */
  async useFor<T>(walletId: string, call: (client: EnclaveClient) => Promise<T>): Promise<T> {
    const { store, own } = this.#options;
    if (this.#servedHere.has(walletId)) return own.use(call);
    for (let attempt = 0; attempt < 3; attempt++) {
      const holder = await assignWallet(store.db, walletId, this.instanceId, this.#now());
      if (holder === this.instanceId) {
        await this.#takingOver.get(walletId);
        if (own.status().state === 'up') this.#servedHere.add(walletId);
        return own.use(call);
      }
      const instance = await enclaveInstanceById(store.db, holder);
      if (instance !== undefined && this.#now() - instance.heartbeatAt <= this.#staleAfterMs) {
        return call(await this.#remote(instance));
      }
      // Gone: bring the wallet into this instance, then claim it unless another replica already did;
      // either way look again. A wallet that cannot be restored here stays where it was.
      await (this.#takingOver.get(walletId) ?? this.#takeOver(walletId, holder));
    }
    throw new WaiaasError('ENCLAVE_UNAVAILABLE', { details: { reason: 'wallet assignment kept moving' } });
  }

  #takeOver(walletId: string, holder: string): Promise<void> {
    const { store, own } = this.#options;
    const run = (async () => {
      await own.use(() => this.#options.takeOver(walletId));
      if (await moveWallet(store.db, walletId, holder, this.instanceId, this.#now()))
        this.#options.log?.(`enclave router: took ${walletId} over from ${holder} (no heartbeat)`);
    })();
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#takingOver.set(walletId, settled);
    void settled.then(() => this.#takingOver.delete(walletId));
    return run;
  }

  async #remote(instance: EnclaveInstance): Promise<EnclaveClient> {
    let remote = this.#remotes.get(instance.id);
    if (remote && remote.endpoint !== instance.endpoint) {
      remote.client.close();
      remote = undefined;
    }
    if (remote === undefined) {
      const client = new EnclaveClient({
        socketPath: instance.endpoint,
        channelKey: this.#options.channelKey,
      });
      // A dropped connection is attested again on the next use: the instance may have restarted.
      client.setOnConnectionLost(() => {
        if (this.#remotes.get(instance.id)?.client === client) this.#remotes.delete(instance.id);
        client.close();
      });
      const created: Remote = {
        endpoint: instance.endpoint,
        client,
        verified: this.#options.verifyRemote(client, instance),
      };
      remote = created;
      this.#remotes.set(instance.id, created);
      created.verified.catch(() => {
        if (this.#remotes.get(instance.id) === created) this.#remotes.delete(instance.id);
        client.close();
      });
    }
    try {
      await remote.verified;
    } catch (error) {
      throw new WaiaasError('ENCLAVE_UNAVAILABLE', {
        message: `Enclave instance ${instance.id} could not be verified`,
        details: {
          reason: 'remote instance not verified',
          instance: instance.id,
          cause: error instanceof WaiaasError ? error.code : 'INTERNAL',
        },
      });
    }
    return remote.client;
  }

  close(): void {
    for (const state of ['starting', 'down', 'stopped']) this.#options.own.off(state, this.#forget);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const remote of this.#remotes.values()) remote.client.close();
    this.#remotes.clear();
  }
}
