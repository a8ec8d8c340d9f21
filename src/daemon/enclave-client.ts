/**
 * The daemon's side of the enclave protocol (src/enclave/protocol.ts): typed calls over one Unix
 * socket connection, request ids, a deadline per request, pipelining (many requests in flight), and a
 * fresh connection on the next call after the enclave went away. Every transport failure is
 * ENCLAVE_UNAVAILABLE (503, retryable); refusals keep the enclave's own code and details.
 */
import { connect, type Socket } from 'node:net';
import { type ErrorCode, errorCatalogue, WaiaasError } from '../core/errors.ts';
import type { PolicyBundle } from '../core/policy.ts';
import type { SealedAgentKey } from '../enclave/agent-keys.ts';
import { channelProof, channelRefused } from '../enclave/channel.ts';
import {
  type DecodedSignResponse,
  decodeSignResponse,
  type EnclaveStatus,
  encodeFrame,
  encodeJsonFrame,
  encodeSignRequestFrame,
  type Frame,
  FrameDecoder,
  type JsonOpName,
  jsonOps,
  Op,
  type OpArgs,
  type OpResult,
  PROTOCOL_VERSION,
  RESPONSE_ERROR,
  RESPONSE_OK,
  type RecoveredWallet,
  type RecoverWallet,
  type SealedCheckpoint,
  type WireError,
} from '../enclave/protocol.ts';

/** Called after every JSON op the enclave answered, e.g. to checkpoint the wallets it changed. */
export type EnclaveChangeListener = <K extends JsonOpName>(
  name: K,
  args: OpArgs<K>,
  result: OpResult<K>,
) => void;

export interface EnclaveClientOptions {
  readonly socketPath: string;
  readonly onChange?: EnclaveChangeListener;
  /** Deadline per request, from sending to the answer. */
  readonly timeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** The deployment's channel key: every connection proves it first (src/enclave/channel.ts). */
  readonly channelKey?: Uint8Array;
}

export type EnclaveSignResult = DecodedSignResponse;
export type { EnclaveStatus };

interface Pending {
  readonly resolve: (frame: Frame) => void;
  readonly reject: (error: WaiaasError) => void;
  readonly deadline: number;
}

const unavailable = (reason: string, cause?: unknown) =>
  new WaiaasError('ENCLAVE_UNAVAILABLE', {
    message: `Enclave unavailable: ${reason}`,
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });

const fromWire = (wire: WireError): WaiaasError => {
  const code = (wire.code in errorCatalogue ? wire.code : 'ENCLAVE_PROTOCOL_ERROR') as ErrorCode;
  return new WaiaasError(code, {
    message: wire.message,
    details: wire.details ?? {},
    ...(wire.layer === 'enclave' || wire.layer === 'server' || wire.layer === 'chain'
      ? { layer: wire.layer }
      : {}),
  });
};

export class EnclaveClient {
  readonly #socketPath: string;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #channelKey: Uint8Array | undefined;
  #onChange: EnclaveChangeListener | undefined;
  #onConnectionLost: (() => void) | undefined;
  readonly #pending = new Map<number, Pending>();
  #socket: Socket | undefined;
  #connecting: Promise<Socket> | undefined;
  #nextId = 1;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: EnclaveClientOptions) {
    this.#socketPath = options.socketPath;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    this.#channelKey = options.channelKey;
    this.#onChange = options.onChange;
  }

  /** Sets (or clears) the listener told of every answered JSON op. */
  setOnChange(listener: EnclaveChangeListener | undefined): void {
    this.#onChange = listener;
  }

  /** Sets (or clears) the listener told when an established connection closes without `disconnect()`. */
  setOnConnectionLost(listener: (() => void) | undefined): void {
    this.#onConnectionLost = listener;
  }

  #connect(): Promise<Socket> {
    if (this.#socket && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    if (this.#connecting) return this.#connecting;
    if (this.#closed) return Promise.reject(unavailable('client closed'));
    this.#connecting = new Promise<Socket>((resolve, reject) => {
      const socket = connect(this.#socketPath);
      const decoder = new FrameDecoder();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(unavailable('connect timed out'));
      }, this.#connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        // Requests wait for the handshake: only a proven connection is handed out.
        this.#handshake(socket).then(
          () => {
            this.#socket = socket;
            resolve(socket);
          },
          (error: unknown) => {
            socket.destroy();
            reject(error);
          },
        );
      });
      socket.on('data', (chunk: Buffer) => {
        for (const event of decoder.push(chunk)) {
          if ('fatal' in event) {
            socket.destroy();
            return;
          }
          this.#settle(event.frame);
        }
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(unavailable(error.code ?? 'socket error', error));
      });
      socket.on('close', () => {
        clearTimeout(timer);
        const lost = this.#socket === socket;
        if (lost) this.#socket = undefined;
        this.#failAll(unavailable('connection closed'));
        if (lost) this.#onConnectionLost?.();
      });
    }).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #settle(frame: Frame): void {
    const pending = this.#pending.get(frame.id);
    if (pending === undefined) {
      // id 0: the enclave is closing this connection over a framing error; the close handler fails the rest.
      return;
    }
    this.#pending.delete(frame.id);
    if (frame.version !== PROTOCOL_VERSION) {
      pending.reject(
        new WaiaasError('ENCLAVE_PROTOCOL_ERROR', { details: { reason: 'version', version: frame.version } }),
      );
    } else if (frame.kind === RESPONSE_OK) {
      pending.resolve(frame);
    } else if (frame.kind === RESPONSE_ERROR) {
      let wire: WireError;
      try {
        wire = JSON.parse(frame.payload.toString('utf8')) as WireError;
      } catch {
        wire = { code: 'ENCLAVE_PROTOCOL_ERROR', message: 'Unreadable error from the enclave' };
      }
      pending.reject(fromWire(wire));
    } else {
      pending.reject(
        new WaiaasError('ENCLAVE_PROTOCOL_ERROR', {
          details: { reason: 'unexpected kind', kind: frame.kind },
        }),
      );
    }
  }

  #failAll(error: WaiaasError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) entry.reject(error);
  }

  #sweep = (): void => {
    const now = Date.now();
    // Deadlines grow with insertion order (one timeout for all), so the expired ones come first.
    for (const [id, entry] of this.#pending) {
      if (entry.deadline > now) break;
      this.#pending.delete(id);
      entry.reject(unavailable('timed out'));
    }
    if (this.#pending.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  };

  #id(): number {
    const id = this.#nextId;
    this.#nextId = id >= 0xffffffff ? 1 : id + 1;
    return id;
  }

  /** Proves the channel key on a new connection (nothing to do without one). */
  async #handshake(socket: Socket): Promise<void> {
    if (this.#channelKey === undefined) return;
    const key = this.#channelKey;
    const hello = async (args: OpArgs<'HELLO'>) => {
      const frame = await this.#send(socket, (id) => encodeJsonFrame(jsonOps.HELLO.code, id, args));
      return jsonOps.HELLO.result.parse(JSON.parse(frame.payload.toString('utf8')));
    };
    const first = await hello({});
    if (first.authenticated) return;
    if (first.challenge === undefined)
      throw new WaiaasError('ENCLAVE_PROTOCOL_ERROR', { details: { reason: 'HELLO without a challenge' } });
    const proof = channelProof(key, Buffer.from(first.challenge, 'base64')).toString('base64');
    if (!(await hello({ proof })).authenticated) throw channelRefused('proof not accepted');
  }

  #request(build: (id: number) => Buffer): Promise<Frame> {
    const socket = this.#socket;
    // Connected: send in this tick (no await on the hot path); otherwise connect first.
    if (socket === undefined || socket.destroyed) return this.#connect().then(() => this.#request(build));
    return this.#send(socket, build);
  }

  #send(socket: Socket, build: (id: number) => Buffer): Promise<Frame> {
    const id = this.#id();
    let frame: Buffer;
    try {
      frame = build(id);
    } catch (error) {
      return Promise.reject(
        new WaiaasError('VALIDATION_FAILED', {
          message: error instanceof Error ? error.message : 'Request cannot be encoded',
        }),
      );
    }
    return new Promise<Frame>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, deadline: Date.now() + this.#timeoutMs });
      if (this.#sweeper === undefined) {
        this.#sweeper = setInterval(this.#sweep, Math.max(10, Math.min(250, this.#timeoutMs / 4)));
        this.#sweeper.unref();
      }
      socket.write(frame);
    });
  }

  /** A JSON op: its arguments and its answer checked against the one op table (protocol.ts). */
  async call<K extends JsonOpName>(name: K, args: OpArgs<K>): Promise<OpResult<K>> {
    const frame = await this.#request((id) => encodeJsonFrame(jsonOps[name].code, id, args));
    let value: unknown;
    try {
      value = JSON.parse(frame.payload.toString('utf8'));
    } catch {
      throw new WaiaasError('ENCLAVE_PROTOCOL_ERROR', {
        details: { reason: 'answer is not JSON', op: name },
      });
    }
    const parsed = jsonOps[name].result.safeParse(value);
    if (!parsed.success) {
      throw new WaiaasError('ENCLAVE_PROTOCOL_ERROR', {
        details: {
          reason: 'answer does not match the op table',
          op: name,
          issues: parsed.error.issues.slice(0, 5).map((issue) => issue.path.join('.')),
        },
      });
    }
    const result = parsed.data as OpResult<K>;
    this.#onChange?.(name, args, result);
    return result;
  }

  async ping(): Promise<void> {
    await this.#request((id) => encodeFrame(Op.PING, id));
  }

  /** Asks the enclave to inspect and sign `message` (Solana message bytes) for `walletId`. */
  async sign(
    walletId: string,
    message: Uint8Array,
    context: { requestId: string },
  ): Promise<EnclaveSignResult> {
    const frame = await this.#request((id) =>
      encodeSignRequestFrame(id, { walletId, requestId: context.requestId, message }),
    );
    return decodeSignResponse(frame.payload);
  }

  createAgentKey(walletId: string, ownerPublicKey: string, multisig: string): Promise<SealedAgentKey> {
    return this.call('CREATE_AGENT_KEY', { walletId, ownerPublicKey, multisig });
  }

  loadAgentKeys(keys: readonly SealedAgentKey[]): Promise<OpResult<'LOAD_AGENT_KEYS'>> {
    return this.call('LOAD_AGENT_KEYS', { keys: [...keys] });
  }

  setPolicy(bundle: PolicyBundle): Promise<OpResult<'SET_POLICY'>> {
    return this.call('SET_POLICY', { bundle });
  }

  async attest(
    options: { nonce?: Uint8Array; walletIds?: string[] } = {},
  ): Promise<{ document: Uint8Array; statement: string }> {
    const answer = await this.call('ATTEST', {
      ...(options.nonce ? { nonce: Buffer.from(options.nonce).toString('base64') } : {}),
      ...(options.walletIds ? { walletIds: options.walletIds } : {}),
    });
    return { document: new Uint8Array(Buffer.from(answer.document, 'base64')), statement: answer.statement };
  }

  /** Sealed checkpoints of the named wallets, or of every wallet changed since its last one. */
  async checkpoint(walletIds?: string[]): Promise<SealedCheckpoint[]> {
    return (await this.call('CHECKPOINT', walletIds === undefined ? {} : { walletIds })).checkpoints;
  }

  /** Takes wallets over from their sealed keys, checkpoints and the chain (AgentEnclave.recover). */
  async recover(wallets: RecoverWallet[]): Promise<RecoveredWallet[]> {
    return (await this.call('RECOVER', { wallets })).wallets;
  }

  /** Stops signing for one wallet, or all, at once; only a newer owner-signed policy resumes it. */
  halt(walletId?: string, reason?: string): Promise<OpResult<'HALT'>> {
    return this.call('HALT', {
      ...(walletId === undefined ? {} : { walletId }),
      ...(reason === undefined ? {} : { reason }),
    });
  }

  /** What the enclave is and holds: every wallet, or only the named ones (many wallets: name them). */
  status(walletIds?: string[]): Promise<EnclaveStatus> {
    return this.call('STATUS', walletIds === undefined ? {} : { walletIds });
  }

  usage(walletId: string): Promise<OpResult<'USAGE'>> {
    return this.call('USAGE', { walletId });
  }

  /** Spends of `asset` since `sinceSeconds` count from now on in the enclave (AgentEnclave.holdSpends). */
  holdSpends(walletId: string, asset: string, sinceSeconds: number): Promise<OpResult<'HOLD_SPENDS'>> {
    return this.call('HOLD_SPENDS', { walletId, asset, sinceSeconds });
  }

  /** Takes a rotated-out agent key out of the enclave for good (see AgentEnclave.retireAgentKey). */
  retireAgentKey(walletId: string, publicKey: string): Promise<OpResult<'RETIRE_AGENT_KEY'>> {
    return this.call('RETIRE_AGENT_KEY', { walletId, publicKey });
  }

  /** Drops the connection (pending calls fail); the next call connects again. */
  disconnect(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
  }

  close(): void {
    this.#closed = true;
    this.disconnect();
    this.#failAll(unavailable('client closed'));
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
