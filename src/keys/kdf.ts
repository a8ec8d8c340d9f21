import { argon2idInChildProcess } from './kdf-process.ts';
import { argon2idOffThread } from './kdf-worker.ts';

export interface KdfParams {
  readonly name: 'argon2id';
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/** What every keystore is written with unless a test asks otherwise: argon2id, 64 MiB, 3 passes. */
export const DEFAULT_KDF: KdfParams = { name: 'argon2id', memoryKiB: 65_536, iterations: 3, parallelism: 1 };

/** Deliberately weak; only reachable through the `insecureKdfForTests` option, so suites stay fast. */
export const INSECURE_TEST_KDF: KdfParams = {
  name: 'argon2id',
  memoryKiB: 64,
  iterations: 1,
  parallelism: 1,
};

/** Bounds accepted when reading a file, so an edited header cannot make us allocate gigabytes or spin. */
export const KDF_READ_LIMITS = {
  minMemoryKiB: 8,
  maxMemoryKiB: 4_194_304,
  maxIterations: 64,
  maxParallelism: 16,
};

export const kdfParamsWithinLimits = (params: KdfParams): boolean =>
  Number.isSafeInteger(params.memoryKiB) &&
  Number.isSafeInteger(params.iterations) &&
  Number.isSafeInteger(params.parallelism) &&
  params.parallelism >= 1 &&
  params.parallelism <= KDF_READ_LIMITS.maxParallelism &&
  params.memoryKiB >= Math.max(KDF_READ_LIMITS.minMemoryKiB, 8 * params.parallelism) &&
  params.memoryKiB <= KDF_READ_LIMITS.maxMemoryKiB &&
  params.iterations >= 1 &&
  params.iterations <= KDF_READ_LIMITS.maxIterations;

/**
 * Where argon2id runs in this process: a worker thread (the default; the daemon derives keys now and
 * then and must not stall), or a short-lived child process, for a process that derives once and must
 * get all of that memory back (the enclave; see kdf-process.ts).
 */
export type Argon2Isolation = 'worker-thread' | 'child-process';
let isolation: Argon2Isolation = 'worker-thread';
export const setArgon2Isolation = (mode: Argon2Isolation): void => {
  isolation = mode;
};

/**
 * Stretches a passphrase into `length` bytes. The passphrase is NFC-normalised so the same words typed
 * on another keyboard unlock the same file; its byte copy is wiped afterwards.
 */
export const derivePassphraseKey = async (
  passphrase: string,
  salt: Uint8Array,
  params: KdfParams,
  length: number,
): Promise<Uint8Array> => {
  const password = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  try {
    const run = isolation === 'child-process' ? argon2idInChildProcess : argon2idOffThread;
    return await run({
      password,
      salt,
      memoryKiB: params.memoryKiB,
      iterations: params.iterations,
      parallelism: params.parallelism,
      length,
    });
  } finally {
    password.fill(0);
  }
};
