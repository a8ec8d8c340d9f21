/**
 * Keeps the agent enclave serving, in one of two modes:
 *   - process (the embedded default): runs the enclave as a child process and restarts it with
 *     exponential backoff after it exits;
 *   - attach (Nitro): the enclave runs in a Nitro Enclave started by its operator (nitro-cli), reached
 *     through a Unix socket that a bridge process (socat to vsock, see src/enclave/vsock-bridge.ts)
 *     keeps open; the supervisor keeps the bridge running and attaches again, with backoff, whenever
 *     the connection to the enclave is lost (the enclave restarted, with nothing in it).
 * After each start (or attachment) it restores what the enclave must hold before it serves transfers
 * (`restore`: recovery of keys, checkpoints and chain floors from the daemon's store; or just the
 * sealed agent keys) and the latest policy bundles, then runs the daemon's checks (attestation)
 * before calling it up. `status()` says up or down, so the daemon can answer 503
 * ENCLAVE_UNAVAILABLE while it is not; `use()` does that check for a call.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isWaiaasError, WaiaasError } from '../core/errors.ts';
import type { PolicyBundle } from '../core/policy.ts';
import type { SealedAgentKey } from '../enclave/agent-keys.ts';
import { defaultBundleCacheDir, ensureEnclaveBundle } from '../enclave/process-bundle.ts';
import { startBridge } from '../enclave/vsock-bridge.ts';
import { EnclaveClient } from './enclave-client.ts';

export type EnclaveState = 'starting' | 'up' | 'down' | 'stopped';

export interface EnclaveSupervisorStatus {
  readonly state: EnclaveState;
  readonly pid: number | undefined;
  /** Starts after the first. */
  readonly restarts: number;
  readonly since: Date;
  readonly lastExit?: { code: number | null; signal: string | null; at: Date };
  readonly lastError?: string;
}

export interface EnclaveSupervisorOptions {
  readonly socketPath: string;
  /** The enclave's own state directory (process mode): its vault key and journal; the daemon never reads it. */
  readonly stateDir: string;
  /** process (default): the enclave is this supervisor's child; attach: it runs elsewhere (Nitro). */
  readonly mode?: 'process' | 'attach';
  readonly attestation?: 'dev' | 'nitro' | 'none';
  /** More arguments for `waiaas enclave` in process mode (its vault, e.g. `--vault aws-kms …`). */
  readonly enclaveArgs?: readonly string[] | (() => readonly string[]);
  /**
   * The child's stdin, asked for at every start (process mode): the channel key (`--channel-key-stdin`)
   * and the passphrase of the legacy vault while it is being migrated, a line each, never anything
   * else. Undefined: stdin is closed empty.
   */
  readonly stdinLine?: () => string | undefined;
  /** The deployment's channel key, proven on every connection (the enclave gets it on stdin). */
  readonly channelKey?: Uint8Array;
  /**
   * Attach mode: the command that keeps `socketPath` bridged to the enclave (e.g. socat to vsock);
   * restarted when it exits. Without it, something else keeps the socket.
   */
  readonly bridge?: readonly string[];
  /**
   * The command that runs `waiaas enclave`, before its arguments. Default: plain node on the enclave
   * bundle (src/enclave/process-bundle.ts), checked or rebuilt before every start; node with tsx on
   * src/enclave/main-entry.ts when no bundle can be made (the reason is logged).
   */
  readonly command?: readonly string[];
  /** Where the enclave bundle is cached: default a private directory under the OS tmp dir. */
  readonly bundleCacheDir?: string;
  /** Sealed agent keys to load after every start (when there is no `restore`). */
  readonly sealedKeys?: () => Promise<readonly SealedAgentKey[]>;
  /**
   * Restores the enclave after every start, in place of `sealedKeys`: e.g. recovery from the
   * database (keys, checkpoints, chain floors). Throwing restarts the enclave (or the attachment).
   */
  readonly restore?: (client: EnclaveClient) => Promise<void>;
  readonly policies?: () => Promise<readonly PolicyBundle[]>;
  /** Runs after each start, before the enclave counts as up; throwing restarts it. */
  readonly verify?: (client: EnclaveClient) => Promise<void>;
  readonly backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  readonly requestTimeoutMs?: number;
  readonly readyTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const entry = fileURLToPath(new URL('../enclave/main-entry.ts', import.meta.url));

/**
 * Node flags for the enclave process, each measured by bench/enclave.ts. Its live heap is a few MB
 * even with thousands of keys, but under a stream of requests V8 grows the young generation to
 * 3 × 16 MB of mostly garbage: 1 MB semi-spaces keep it small, at the price of more (cheap: little
 * survives) scavenges. An explicit old-space cap sizes V8's heap for a small process (−2–3 MB with
 * 1,000 wallets); 512 MB is far above what the enclave holds (its replay memory at the daemon's
 * target rate is ~30 MB), so it never bites. --expose-gc lets the enclave collect after bursts of
 * rare ops, when idle (src/enclave/gc-pacer.ts): V8 then gives the pages back.
 */
export const ENCLAVE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--max-old-space-size=512',
  '--expose-gc',
];

/**
 * The enclave's environment on top of the daemon's: one malloc arena. Its work is on one thread;
 * arenas for V8's and libuv's helper threads only hold on to memory (−2 MB).
 */
export const ENCLAVE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };

/**
 * The daemon's environment minus what is the daemon's alone: its secret and its AWS credentials
 * (the enclave gets credentials for its KMS vault over the protocol, when it has one), plus ENCLAVE_ENV.
 */
const enclaveEnvironment = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'WAIAAS_DAEMON_PASSPHRASE' || name.startsWith('AWS_')) continue;
    env[name] = value;
  }
  return { ...env, ...ENCLAVE_ENV };
};

const describeError = (error: unknown): string =>
  isWaiaasError(error)
    ? `${error.code}${error.details['reason'] ? ` (${String(error.details['reason'])})` : ''}`
    : error instanceof Error
      ? error.message
      : String(error);

/** The enclave from source, through tsx (~35 MB more): the fallback when no bundle can be built. */
export const sourceEnclaveCommand = (): string[] => [
  process.execPath,
  ...ENCLAVE_NODE_FLAGS,
  '--import',
  'tsx',
  entry,
];

/**
 * The command for the bundled enclave: plain node on a bundle checked against the sources now (built
 * again when they changed or the cached file does not check out).
 */
export const bundledEnclaveCommand = async (cacheDir: string): Promise<string[]> => {
  const bundle = await ensureEnclaveBundle({ cacheDir });
  return [process.execPath, ...ENCLAVE_NODE_FLAGS, bundle.path];
};

export class EnclaveSupervisor extends EventEmitter {
  readonly client: EnclaveClient;
  readonly #options: EnclaveSupervisorOptions;
  #child: ChildProcess | undefined;
  #bridge: ChildProcess | undefined;
  #bridgeTimer: NodeJS.Timeout | undefined;
  #state: EnclaveState = 'stopped';
  #since = new Date();
  #restarts = 0;
  #failures = 0;
  #startedAt = 0;
  #lastExit: EnclaveSupervisorStatus['lastExit'];
  #lastError: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** Counts spawns, so a command prepared for an abandoned spawn is dropped. */
  #generation = 0;

  constructor(options: EnclaveSupervisorOptions) {
    super();
    this.#options = options;
    this.client = new EnclaveClient({
      socketPath: options.socketPath,
      ...(options.channelKey === undefined ? {} : { channelKey: options.channelKey }),
      ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
    });
    if (options.mode === 'attach') this.client.setOnConnectionLost(() => this.#attachmentLost());
  }

  get mode(): 'process' | 'attach' {
    return this.#options.mode ?? 'process';
  }

  status(): EnclaveSupervisorStatus {
    return {
      state: this.#state,
      pid: this.#child?.pid,
      restarts: this.#restarts,
      since: this.#since,
      ...(this.#lastExit ? { lastExit: this.#lastExit } : {}),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  /** Runs `call` only while the enclave is up; otherwise ENCLAVE_UNAVAILABLE without trying. */
  use<T>(call: (client: EnclaveClient) => Promise<T>): Promise<T> {
    if (this.#state !== 'up') {
      return Promise.reject(
        new WaiaasError('ENCLAVE_UNAVAILABLE', { details: { reason: `enclave ${this.#state}` } }),
      );
    }
    return call(this.client);
  }

  /** Starts the enclave and resolves once it is up the first time (retrying with backoff meanwhile). */
  start(): Promise<void> {
    this.#stopping = false;
    const up = this.waitUntilUp();
    if (this.mode === 'attach') {
      this.#setState('starting');
      this.#startBridge();
      void this.#attach();
    } else {
      this.#spawn();
    }
    return up;
  }

  /** Resolves once up; rejects after `timeoutMs`, or as soon as the supervisor is stopped. */
  waitUntilUp(timeoutMs = 60_000): Promise<void> {
    if (this.#state === 'up') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const settle = (error?: WaiaasError) => {
        clearTimeout(timer);
        this.off('up', onUp);
        this.off('stopped', onStopped);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          settle(
            new WaiaasError('ENCLAVE_UNAVAILABLE', {
              details: { reason: 'not up in time', lastError: this.#lastError },
            }),
          ),
        timeoutMs,
      );
      const onUp = () => settle();
      const onStopped = () =>
        settle(new WaiaasError('ENCLAVE_UNAVAILABLE', { details: { reason: 'enclave stopped' } }));
      this.once('up', onUp);
      this.once('stopped', onStopped);
    });
  }

  #setState(state: EnclaveState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#since = new Date();
    this.emit(state);
  }

  #spawn(): void {
    this.#setState('starting');
    this.#startedAt = Date.now();
    const generation = ++this.#generation;
    this.#command().then(
      (command) => {
        if (!this.#stopping && generation === this.#generation) this.#launch(command);
      },
      (error: unknown) => {
        if (this.#stopping || generation !== this.#generation) return;
        this.#lastError = `cannot prepare the enclave command: ${error instanceof Error ? error.message : String(error)}`;
        this.#options.log?.(`enclave: ${this.#lastError}`);
        this.#setState('down');
        this.#scheduleRestart();
      },
    );
  }

  /** The bundle when it can be had (the cache dir falls back to the state dir when unsafe), else tsx. */
  async #command(): Promise<readonly string[]> {
    const options = this.#options;
    if (options.command) return options.command;
    const reasons: string[] = [];
    for (const cacheDir of [
      options.bundleCacheDir ?? defaultBundleCacheDir(),
      join(options.stateDir, 'code-cache'),
    ]) {
      try {
        return await bundledEnclaveCommand(cacheDir);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        reasons.push(reason);
        options.log?.(`enclave: no bundle in ${cacheDir}: ${reason}`);
      }
    }
    options.log?.(`enclave: running from source with tsx: ${reasons.join('; ')}`);
    return sourceEnclaveCommand();
  }

  #launch(command: readonly string[]): void {
    const options = this.#options;
    const stdinLine = options.stdinLine?.();
    const args = [
      ...command.slice(1),
      '--socket',
      options.socketPath,
      '--state-dir',
      options.stateDir,
      '--attestation',
      options.attestation ?? 'dev',
      ...((typeof options.enclaveArgs === 'function' ? options.enclaveArgs() : options.enclaveArgs) ?? []),
    ];
    const child = spawn(command[0]!, args, {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: enclaveEnvironment(),
    });
    this.#child = child;
    child.stdin?.end(stdinLine === undefined ? '' : `${stdinLine}\n`);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      for (const line of text.split('\n')) if (line.trim()) options.log?.(`enclave[${child.pid}]: ${line}`);
    });
    let stdout = '';
    let ready = false;
    const readyTimer = setTimeout(() => {
      if (!ready) this.#fail(child, 'the enclave did not become ready in time');
    }, options.readyTimeoutMs ?? 30_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      if (ready) return;
      stdout += text;
      if (/"event":"ready"/.test(stdout)) {
        ready = true;
        clearTimeout(readyTimer);
        void this.#reload(child);
      }
    });
    child.once('error', (error) => this.#fail(child, `spawn failed: ${error.message}`));
    child.once('exit', (code, signal) => {
      clearTimeout(readyTimer);
      this.#exited(child, code, signal);
    });
  }

  /** Restores the enclave (keys, state, policies) and checks it; true once it may be called up. */
  async #restoreAndVerify(): Promise<void> {
    const options = this.#options;
    this.client.disconnect();
    if (options.restore) {
      await options.restore(this.client);
    } else {
      const keys = (await options.sealedKeys?.()) ?? [];
      if (keys.length > 0) {
        const loaded = await this.client.loadAgentKeys(keys);
        if (loaded.failed.length > 0) {
          options.log?.(
            `enclave: ${loaded.failed.length} sealed agent key(s) did not load: ${loaded.failed.map((item) => `${item.publicKey} ${item.code}`).join(', ')}`,
          );
        }
      }
    }
    // One wallet's bad row must not keep every wallet's enclave down: per-wallet refusals are
    // logged and skipped; only a transport failure aborts the reload (and restarts the enclave).
    for (const bundle of (await options.policies?.()) ?? []) {
      try {
        await this.client.setPolicy(bundle);
      } catch (error) {
        if (!isWaiaasError(error) || error.code === 'ENCLAVE_UNAVAILABLE') throw error;
        // The enclave may already hold a newer policy version; that one stays in force.
        if (error.code !== 'POLICY_VERSION_NOT_NEWER')
          options.log?.(`enclave: policy for ${bundle.walletId} refused: ${error.code}`);
      }
    }
    await options.verify?.(this.client);
  }

  async #reload(child: ChildProcess): Promise<void> {
    try {
      await this.#restoreAndVerify();
      if (this.#child !== child) return;
      this.#lastError = undefined;
      this.#setState('up');
    } catch (error) {
      this.#fail(child, `reload after start failed: ${describeError(error)}`);
    }
  }

  // attach mode

  /** Keeps the bridge process running (restarted 1 s after it exits) until stop(). */
  #startBridge(): void {
    const command = this.#options.bridge;
    if (command === undefined || this.#stopping) return;
    const bridge = startBridge(command, (line) => this.#options.log?.(`enclave ${line}`));
    this.#bridge = bridge;
    bridge.once('exit', (code, signal) => {
      if (this.#bridge !== bridge) return;
      this.#bridge = undefined;
      if (this.#stopping) return;
      this.#options.log?.(`enclave bridge exited (${signal ?? code}); restarting it`);
      this.#bridgeTimer = setTimeout(() => this.#startBridge(), 1_000);
    });
  }

  /**
   * Waits for the enclave to answer, restores and checks it, then calls it up; retried with backoff
   * while it does not answer. One loss of the enclave is one restart, however many attempts it takes
   * to attach again (each attempt is not a new enclave).
   */
  async #attach(): Promise<void> {
    const generation = ++this.#generation;
    this.#startedAt = Date.now();
    try {
      await this.client.ping();
      await this.#restoreAndVerify();
      if (this.#stopping || generation !== this.#generation) return;
      this.#lastError = undefined;
      this.#failures = 0;
      this.#setState('up');
    } catch (error) {
      if (this.#stopping || generation !== this.#generation) return;
      this.#lastError = `attach failed: ${describeError(error)}`;
      this.client.disconnect();
      this.#setState('down');
      this.#scheduleAttach();
    }
  }

  #scheduleAttach(): void {
    const backoff = this.#options.backoff ?? {};
    const delay = Math.min(backoff.maxMs ?? 5_000, (backoff.initialMs ?? 100) * 2 ** this.#failures);
    this.#failures++;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#stopping) void this.#attach();
    }, delay);
  }

  /** The connection to an attached enclave closed: it is gone, or was restarted empty. */
  #attachmentLost(): void {
    if (this.#stopping || this.#state !== 'up') return;
    this.#lastExit = { code: null, signal: null, at: new Date() };
    this.#options.log?.('enclave: connection to the attached enclave lost; attaching again');
    this.#restarts++;
    this.#setState('starting');
    this.#scheduleAttach();
  }

  #fail(child: ChildProcess, reason: string): void {
    this.#lastError = reason;
    this.#options.log?.(`enclave: ${reason}`);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.client.disconnect();
    this.#lastExit = { code, signal, at: new Date() };
    if (this.#stopping) {
      this.#setState('stopped');
      return;
    }
    this.#setState('down');
    this.#options.log?.(`enclave: exited (${signal ?? code})`);
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    const backoff = this.#options.backoff ?? {};
    if (Date.now() - this.#startedAt > (backoff.resetAfterMs ?? 30_000)) this.#failures = 0;
    const delay = Math.min(backoff.maxMs ?? 5_000, (backoff.initialMs ?? 100) * 2 ** this.#failures);
    this.#failures++;
    this.#options.log?.(`enclave: restarting in ${delay} ms`);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopping) return;
      this.#restarts++;
      this.#spawn();
    }, delay);
  }

  /** Stops the enclave (SIGTERM, then SIGKILL after `graceMs`) and does not restart it. */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#bridgeTimer) clearTimeout(this.#bridgeTimer);
    const bridge = this.#bridge;
    this.#bridge = undefined;
    if (bridge && bridge.exitCode === null && bridge.signalCode === null) {
      const exited = new Promise((resolve) => bridge.once('exit', resolve));
      bridge.kill('SIGTERM');
      await exited;
    }
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    this.client.close();
    this.#setState('stopped');
  }
}
