/**
 * When the enclave process collects garbage on purpose. V8 grows its heap during a burst of rare ops
 * (a restart loading a thousand sealed keys, wallets created in bulk: JSON, zod, OpenSSL objects
 * whose native memory goes back only when their wrappers are collected) and does not give the pages
 * back on its own; a full collection does. So: one after every `opsPerCollection` rare ops, and one
 * once the process has been idle for `idleMs` after any rare op or many signatures. Never on the
 * signing path itself: a collection runs from a timer, between requests.
 */
export interface GcPacerOptions {
  /** `globalThis.gc` when node runs with --expose-gc; without it the pacer does nothing. */
  readonly collect: (() => void) | undefined;
  readonly idleMs?: number;
  readonly opsPerCollection?: number;
  readonly signaturesPerCollection?: number;
}

export interface GcPacer {
  /** A request was answered; `rare` for anything but SIGN and PING. */
  noteRequest(rare: boolean): void;
  /** Collections so far (for tests and the bench). */
  readonly collections: number;
  stop(): void;
}

export const createGcPacer = (options: GcPacerOptions): GcPacer => {
  const collect = options.collect;
  const idleMs = options.idleMs ?? 250;
  const opsPerCollection = options.opsPerCollection ?? 200;
  const signaturesPerCollection = options.signaturesPerCollection ?? 5_000;
  let rareOps = 0;
  let signatures = 0;
  let lastRequestAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let collections = 0;

  const run = () => {
    rareOps = 0;
    signatures = 0;
    collections++;
    collect?.();
  };
  const onTimer = () => {
    timer = undefined;
    if (rareOps === 0 && signatures < signaturesPerCollection) return;
    const quietFor = Date.now() - lastRequestAt;
    if (quietFor >= idleMs) run();
    else arm(idleMs - quietFor);
  };
  const arm = (delay: number) => {
    timer ??= setTimeout(onTimer, delay);
    timer.unref();
  };

  return {
    noteRequest(rare) {
      if (collect === undefined) return;
      lastRequestAt = Date.now();
      if (rare) rareOps++;
      else signatures++;
      if (rareOps >= opsPerCollection) {
        // In a burst: collect between requests, not in the middle of this one.
        rareOps = 0;
        setImmediate(run);
      }
      if (rareOps > 0 || signatures >= signaturesPerCollection) arm(idleMs);
    },
    get collections() {
      return collections;
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
};
