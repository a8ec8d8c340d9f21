import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * argon2id at 64 MiB takes ~0.3 s of CPU. Run on the main thread it would stall every request the
 * daemon serves meanwhile (and let anyone with an owner token stall it at will with wrong
 * passphrases), so it runs in one worker thread, one job at a time. The worker ends after a short
 * idle period to give its memory back.
 */

export interface Argon2Job {
  password: Uint8Array;
  salt: Uint8Array;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  length: number;
}

// Plain CommonJS so it runs without any TypeScript loader; hash-wasm's argon2 alone (not its every
// algorithm) is resolved by the parent.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { argon2id } = require(workerData.hashWasm);
parentPort.on('message', async ({ id, job }) => {
  const password = new Uint8Array(job.password);
  try {
    const output = await argon2id({
      password, salt: new Uint8Array(job.salt), iterations: job.iterations, parallelism: job.parallelism,
      memorySize: job.memoryKiB, hashLength: job.length, outputType: 'binary',
    });
    const copy = output.slice();
    output.fill(0);
    parentPort.postMessage({ id, output: copy.buffer }, [copy.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  } finally {
    password.fill(0);
  }
});
`;

const IDLE_MS = 5_000;
export const HASH_WASM_ARGON2 = 'hash-wasm/dist/argon2.umd.min.js';

interface Pending {
  resolve: (output: Uint8Array) => void;
  reject: (error: Error) => void;
}

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();

const failAll = (error: Error) => {
  for (const job of pending.values()) job.reject(error);
  pending.clear();
};

const workerOf = (): Worker => {
  if (worker !== undefined) return worker;
  const hashWasm = createRequire(import.meta.url).resolve(HASH_WASM_ARGON2);
  const started = new Worker(WORKER_SOURCE, { eval: true, workerData: { hashWasm } });
  started.on('message', (message: { id: number; output?: ArrayBuffer; error?: string }) => {
    const job = pending.get(message.id);
    if (job === undefined) return;
    pending.delete(message.id);
    if (message.output === undefined) job.reject(new Error(`argon2id failed: ${message.error ?? 'unknown'}`));
    else job.resolve(new Uint8Array(message.output));
    settle();
  });
  started.on('error', (error) => failAll(error));
  started.on('exit', () => {
    if (worker === started) worker = undefined;
    failAll(new Error('argon2id worker exited'));
  });
  worker = started;
  return started;
};

// Keeps the process alive only while jobs run, and ends the worker once it has been idle a while.
const settle = () => {
  if (worker === undefined) return;
  if (pending.size > 0) {
    worker.ref();
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = undefined;
    return;
  }
  worker.unref();
  idleTimer ??= setTimeout(() => {
    idleTimer = undefined;
    if (pending.size === 0) void worker?.terminate();
  }, IDLE_MS).unref();
};

/** Runs argon2id in the worker. The password copy sent there is moved, not cloned, and wiped after use. */
export const argon2idOffThread = (job: Argon2Job): Promise<Uint8Array> => {
  const id = nextId++;
  const password = new Uint8Array(job.password);
  const salt = new Uint8Array(job.salt);
  return new Promise<Uint8Array>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    const target = workerOf();
    settle();
    target.postMessage({ id, job: { ...job, password: password.buffer, salt: salt.buffer } }, [
      password.buffer,
    ]);
  });
};
