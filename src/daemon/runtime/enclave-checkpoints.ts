/**
 * Keeps the enclave's checkpoints (checkpoint.ts in src/enclave) in the database: at once after every
 * change of a wallet's L2 state that did not come from signing (a policy, a key created or retired,
 * a halt: the owner's acts and the monitor's), and every `intervalMs` for the wallets whose counters
 * moved. What a lost enclave had not checkpointed yet is at most `intervalMs` of spending, and the
 * chain floor applied at recovery covers it.
 */
import { isWaiaasError } from '../../core/errors.ts';
import {
  CHECKPOINT_BATCH,
  type OpArgs,
  type OpResult,
  type SealedCheckpoint,
} from '../../enclave/protocol.ts';
import { saveEnclaveCheckpoints } from '../../store/enclave-checkpoints.ts';
import type { Store } from '../../store/index.ts';
import type { EnclaveClient } from '../enclave-client.ts';
import type { EnclaveSupervisor } from '../enclave-supervisor.ts';

export interface EnclaveCheckpointer {
  /** Stores checkpoints the enclave handed out (e.g. with a halt). */
  save(checkpoints: readonly SealedCheckpoint[]): Promise<void>;
  /** Checkpoints these wallets soon (coalesced); resolves once stored. */
  request(walletIds: readonly string[]): Promise<void>;
  /** Checkpoints every wallet changed since its last checkpoint; resolves once stored. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface EnclaveCheckpointerOptions {
  readonly store: Store;
  readonly enclave: Pick<EnclaveSupervisor, 'use'> & { readonly client: EnclaveClient };
  readonly intervalMs?: number;
  readonly log?: (line: string) => void;
}

/** The wallets a JSON op changed (apart from signing, which the periodic pass covers). */
const changedWallets = (name: string, args: unknown, result: unknown): string[] => {
  switch (name) {
    case 'CREATE_AGENT_KEY':
    case 'RETIRE_AGENT_KEY':
      return [(args as OpArgs<'CREATE_AGENT_KEY'>).walletId];
    case 'SET_POLICY': {
      const answer = result as OpResult<'SET_POLICY'>;
      return answer.unchanged ? [] : [answer.walletId];
    }
    case 'LOAD_AGENT_KEYS':
      return (result as OpResult<'LOAD_AGENT_KEYS'>).loaded.map((key) => key.walletId);
    default:
      return [];
  }
};

export function createEnclaveCheckpointer(options: EnclaveCheckpointerOptions): EnclaveCheckpointer {
  const { store, enclave } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  let requested = new Set<string>();
  let scheduled: Promise<void> | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const save = async (checkpoints: readonly SealedCheckpoint[]) => {
    if (checkpoints.length > 0) await saveEnclaveCheckpoints(store.db, checkpoints);
  };

  /** One call at a time, in order, each storing what it got. */
  const serially = (work: () => Promise<void>): Promise<void> => {
    const next = running.then(work, work);
    running = next.catch(() => undefined);
    return next;
  };

  /** The named wallets a batch at a time, or every changed wallet until the enclave has none left. */
  const checkpoint = (walletIds?: string[]) =>
    serially(async () => {
      if (walletIds !== undefined) {
        for (let index = 0; index < walletIds.length; index += CHECKPOINT_BATCH) {
          const batch = walletIds.slice(index, index + CHECKPOINT_BATCH);
          await save(await enclave.use((client) => client.checkpoint(batch)));
        }
        return;
      }
      for (;;) {
        const checkpoints = await enclave.use((client) => client.checkpoint());
        await save(checkpoints);
        if (checkpoints.length < CHECKPOINT_BATCH) return;
      }
    });

  const request = (walletIds: readonly string[]): Promise<void> => {
    for (const walletId of walletIds) requested.add(walletId);
    scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      scheduled = undefined;
      const wallets = [...requested];
      requested = new Set();
      return checkpoint(wallets);
    });
    return scheduled;
  };

  // While the enclave is down its changes stay marked in it, for the next pass after it is back.
  const onFailure = (error: unknown) => {
    if (isWaiaasError(error, 'ENCLAVE_UNAVAILABLE')) return;
    options.log?.(`enclave checkpoint not stored: ${error instanceof Error ? error.message : String(error)}`);
  };

  enclave.client.setOnChange((name, args, result) => {
    if (stopped) return;
    if (name === 'HALT') {
      const { halted, checkpoints } = result as OpResult<'HALT'>;
      save(checkpoints)
        .then(() => (halted.length > checkpoints.length ? checkpoint() : undefined))
        .catch(onFailure);
      return;
    }
    const wallets = changedWallets(name, args, result);
    if (wallets.length > 0) request(wallets).catch(onFailure);
  });

  const timer = setInterval(() => {
    checkpoint().catch(onFailure);
  }, intervalMs);
  timer.unref();

  return {
    save,
    request,
    flush: () => checkpoint(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      enclave.client.setOnChange(undefined);
      await running;
    },
  };
}
