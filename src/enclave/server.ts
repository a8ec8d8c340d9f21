/**
 * Serves the enclave protocol on a Unix socket (mode 0600); on Nitro, socat bridges a vsock port to it
 * (vsock-bridge.ts). Every frame
 * gets an answer or closes the connection; no input can throw out of a handler, so no input can stop
 * the process. Frames on one connection are processed in arrival order (SIGN synchronously), and the
 * answers to one read are written together, so pipelined requests cost one write.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { z } from 'zod';
import { type ErrorCode, isWaiaasError, WaiaasError } from '../core/errors.ts';
import { ChannelGate, channelRefused } from './channel.ts';
import type { AgentEnclave } from './enclave.ts';
import {
  CHECKPOINT_BATCH,
  decodeSignRequest,
  encodeErrorFrame,
  encodeFrame,
  encodeJsonFrame,
  encodeSignResponseFrame,
  type Frame,
  FrameDecoder,
  type JsonOpName,
  jsonOpOfCode,
  jsonOps,
  MAX_FRAME_BYTES,
  Op,
  type OpResult,
  PROTOCOL_VERSION,
  RESPONSE_OK,
  type WireError,
} from './protocol.ts';

/** What a transport hands us per connection: net.Socket, or a vsock socket of the same shape. */
export interface ByteConnection {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close' | 'end', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  write(chunk: Buffer): unknown;
  end(): unknown;
  destroy(): unknown;
}

export interface ServeOptions {
  readonly maxFrameBytes?: number;
  /** One line per notable event; never given secrets. */
  readonly log?: (line: string) => void;
  /** Called once per request frame, after it was answered (or its answer started, for async ops). */
  readonly onRequest?: (kind: number) => void;
  /** The deployment's channel key: every connection proves it holds it first (channel.ts). */
  readonly channelKey?: Uint8Array;
}

const protocolError = (reason: string, details: Record<string, unknown> = {}): WireError => ({
  code: 'ENCLAVE_PROTOCOL_ERROR' satisfies ErrorCode,
  message: `Enclave protocol error: ${reason}`,
  details: { reason, ...details },
});

export const toWireError = (error: unknown): WireError => {
  if (isWaiaasError(error)) {
    return {
      code: error.code,
      message: error.message,
      details: error.details,
      ...(error.layer ? { layer: error.layer } : {}),
    };
  }
  // Unknown failures are reported without their message: it could quote input or state.
  return { code: 'INTERNAL', message: 'Internal error in the enclave' };
};

type Handlers = {
  [K in JsonOpName]: (
    enclave: AgentEnclave,
    args: z.output<(typeof jsonOps)[K]['args']>,
  ) => OpResult<K> | Promise<OpResult<K>>;
};

/** What each JSON op does; its arguments were validated against `jsonOps` (protocol.ts) first. */
const handlers: Handlers = {
  CREATE_AGENT_KEY: (enclave, args) =>
    enclave.createAgentKey(args.walletId, args.ownerPublicKey, args.multisig),
  LOAD_AGENT_KEYS: (enclave, args) => enclave.loadAgentKeys(args.keys),
  SET_POLICY: (enclave, args) => enclave.setPolicy(args.bundle),
  ATTEST: async (enclave, args) => {
    const { document, statement } = await enclave.attest(
      args.nonce === undefined ? undefined : Buffer.from(args.nonce, 'base64'),
      args.walletIds,
    );
    return { document: Buffer.from(document).toString('base64'), statement };
  },
  CHECKPOINT: async (enclave, args) => ({ checkpoints: await enclave.checkpoint(args.walletIds) }),
  RECOVER: async (enclave, args) => ({ wallets: await enclave.recover(args.wallets) }),
  STATUS: (enclave, args) => ({
    protocolVersion: PROTOCOL_VERSION,
    pid: process.pid,
    ...enclave.status(args.walletIds),
  }),
  USAGE: (enclave, args) => enclave.usage(args.walletId),
  RETIRE_AGENT_KEY: (enclave, args) => enclave.retireAgentKey(args.walletId, args.publicKey),
  HALT: async (enclave, args) => {
    const halted = enclave.halt(args.walletId);
    // The halted wallets' checkpoints, a batch at most; the rest stay marked for the next CHECKPOINT.
    const ids = halted
      .filter((entry) => entry.policyVersion !== null && !entry.unchanged)
      .map((entry) => entry.walletId)
      .slice(0, CHECKPOINT_BATCH);
    return { halted, checkpoints: await enclave.checkpoint(ids) };
  },
  SET_AWS_CREDENTIALS: (enclave, args) => enclave.setAwsCredentials(args),
  HOLD_SPENDS: (enclave, args) => enclave.holdSpends(args.walletId, args.asset, args.sinceSeconds),
  MIGRATE_LEGACY_VAULT: (enclave, args) => enclave.migrateLegacyVault(args.keys),
  // Answered by the connection (answerGated), which holds the handshake's state.
  HELLO: () => ({ authenticated: true }),
};

const runJsonOp = async (enclave: AgentEnclave, name: JsonOpName, input: unknown): Promise<unknown> => {
  const parsed = jsonOps[name].args.safeParse(input);
  if (!parsed.success) {
    throw new WaiaasError('VALIDATION_FAILED', {
      details: {
        issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      },
    });
  }
  return (handlers[name] as (enclave: AgentEnclave, args: unknown) => unknown)(enclave, parsed.data);
};

/** The answer to one frame: a buffer now (PING, SIGN, errors) or later (the JSON ops). */
export const answerFrame = (enclave: AgentEnclave, frame: Frame): Buffer | Promise<Buffer> => {
  const { id } = frame;
  try {
    if (frame.version !== PROTOCOL_VERSION) {
      return encodeErrorFrame(id, protocolError('unsupported protocol version', { version: frame.version }));
    }
    if (frame.kind === Op.SIGN) {
      const request = decodeSignRequest(frame.payload);
      if (request === undefined) return encodeErrorFrame(id, protocolError('malformed sign request'));
      const result = enclave.sign(request.walletId, request.message, { requestId: request.requestId });
      return encodeSignResponseFrame(id, {
        signature: result.signature,
        publicKey: result.publicKeyBytes,
        tier: result.tier,
        repeated: result.repeated,
        actions: result.actions,
        transfer: result.transfer,
      });
    }
    if (frame.kind === Op.PING) return encodeFrame(RESPONSE_OK, id);
    const name = jsonOpOfCode.get(frame.kind);
    if (name === undefined)
      return encodeErrorFrame(id, protocolError('unknown operation', { kind: frame.kind }));
    let input: unknown;
    try {
      input = frame.payload.length === 0 ? {} : JSON.parse(frame.payload.toString('utf8'));
    } catch {
      return encodeErrorFrame(id, protocolError('payload is not JSON'));
    }
    return runJsonOp(enclave, name, input).then(
      (value) => encodeJsonFrame(RESPONSE_OK, id, value),
      (error: unknown) => encodeErrorFrame(id, toWireError(error)),
    );
  } catch (error) {
    return encodeErrorFrame(id, toWireError(error));
  }
};

const CLOSE = Symbol('close the connection');

/**
 * The answer to one frame on a connection that may not have proven the channel key yet: HELLO is
 * answered here; anything else before the proof is refused; a wrong proof closes the connection.
 */
const answerGated = (
  enclave: AgentEnclave,
  frame: Frame,
  gate: ChannelGate,
): Buffer | Promise<Buffer> | typeof CLOSE => {
  if (frame.kind === Op.HELLO && frame.version === PROTOCOL_VERSION) {
    try {
      const input: unknown = frame.payload.length === 0 ? {} : JSON.parse(frame.payload.toString('utf8'));
      const parsed = jsonOps.HELLO.args.safeParse(input);
      if (!parsed.success) return encodeErrorFrame(frame.id, protocolError('malformed HELLO'));
      return encodeJsonFrame(RESPONSE_OK, frame.id, gate.hello(parsed.data.proof));
    } catch (error) {
      if (isWaiaasError(error) && error.code === 'ENCLAVE_CHANNEL_REFUSED') return CLOSE;
      return encodeErrorFrame(frame.id, protocolError('malformed HELLO'));
    }
  }
  if (!gate.open)
    return encodeErrorFrame(frame.id, toWireError(channelRefused('no proof of the channel key yet')));
  return answerFrame(enclave, frame);
};

/** Runs the protocol on one connection until it closes. */
export const serveConnection = (
  enclave: AgentEnclave,
  connection: ByteConnection,
  options: ServeOptions = {},
): void => {
  const decoder = new FrameDecoder(options.maxFrameBytes ?? MAX_FRAME_BYTES);
  const gate = new ChannelGate(options.channelKey);
  let open = true;
  const send = (buffer: Buffer) => {
    if (open) connection.write(buffer);
  };
  connection.on('error', () => {
    open = false;
  });
  connection.on('close', () => {
    open = false;
  });
  connection.on('data', (chunk: Buffer) => {
    const ready: Buffer[] = [];
    const ids: number[] = [];
    let fatal: string | undefined;
    let refused = false;
    // Group commit: the journal records of every signature made for this read go out in one write,
    // before any of the answers does.
    enclave.holdJournal();
    try {
      for (const event of decoder.push(chunk)) {
        if ('fatal' in event) {
          fatal = event.fatal;
          break;
        }
        const answer = answerGated(enclave, event.frame, gate);
        if (answer === CLOSE) {
          ready.push(encodeErrorFrame(event.frame.id, toWireError(channelRefused('wrong proof'))));
          ids.push(event.frame.id);
          refused = true;
          break;
        }
        if (answer instanceof Promise) {
          answer.then(send, () => undefined);
        } else {
          ready.push(answer);
          ids.push(event.frame.id);
        }
        options.onRequest?.(event.frame.kind);
      }
    } finally {
      try {
        enclave.releaseJournal();
      } catch {
        // Nothing made in this read may leave: its spends might not be on disk.
        options.log?.('enclave: journal write failed; refusing the answers of one read');
        for (let index = 0; index < ready.length; index++)
          ready[index] = encodeErrorFrame(ids[index]!, JOURNAL_FAILED);
      }
    }
    if (fatal !== undefined) {
      options.log?.(`enclave: closing a connection: ${fatal}`);
      ready.push(encodeErrorFrame(0, protocolError(fatal)));
    }
    if (ready.length > 0) send(ready.length === 1 ? ready[0]! : Buffer.concat(ready));
    if (fatal !== undefined || refused) {
      if (refused) options.log?.('enclave: closing a connection: wrong channel proof');
      open = false;
      connection.end();
    }
  });
};

const JOURNAL_FAILED: WireError = { code: 'INTERNAL', message: 'Internal error in the enclave' };

const openSockets = new WeakMap<Server, Set<Socket>>();

const removeStaleSocket = (path: string) => {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // nothing there
  }
};

/** Listens on a Unix socket that only this user can open (created under umask 0177, then chmod 0600). */
export const listenUnix = async (
  enclave: AgentEnclave,
  path: string,
  options: ServeOptions = {},
): Promise<Server> => {
  removeStaleSocket(path);
  const sockets = new Set<Socket>();
  const server = createServer((socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(enclave, socket, options);
  });
  openSockets.set(server, sockets);
  const previousMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previousMask);
  }
  chmodSync(path, 0o600);
  // Accept errors (e.g. out of file descriptors) are reported, never fatal.
  server.on('error', (error) => options.log?.(`enclave: socket server error: ${error.message}`));
  return server;
};

/** Stops listening and drops open connections (a plain close waits for clients to hang up). */
export const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of openSockets.get(server) ?? []) socket.destroy();
  });
