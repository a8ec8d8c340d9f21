/**
 * The enclave protocol: length-prefixed, versioned binary frames, apart from any I/O.
 *
 *   u32 BE  length of what follows (header + payload), at most MAX_FRAME_BYTES
 *   u8      protocol version (PROTOCOL_VERSION)
 *   u8      kind: a request op (< 0x80), RESPONSE_OK (0x80) or RESPONSE_ERROR (0x81)
 *   u32 BE  request id, echoed by the response; responses may come out of order
 *   …       payload
 *
 * The hot path (SIGN) is binary both ways; the rare ops carry UTF-8 JSON, each with its argument and
 * result schema in `jsonOps` below: the one table both the enclave (server.ts) and the daemon
 * (daemon/enclave-client.ts) read, so neither side can drift from the other. An error response
 * carries JSON `{code, message, details, layer?}` with a code from the error catalogue.
 *
 * SIGN request:  u8 walletId length, walletId, u8 requestId length, requestId, message bytes (rest)
 * SIGN response: 64 signature | 32 agent public key | u8 tier | u8 flags (1 repeated, 2 transfer) |
 *                u8 actions (1 spendingLimitUse, 2 vaultTransactionCreate, 4 proposalCreate, 8 proposalApprove) |
 *                transfer? (u8 route 0 spending-limit 1 vault-transaction | u64 LE amount | 32 destination |
 *                u8 length + asset | u8 length + recipient (0 = unknown))
 */
import bs58 from 'bs58';
import { z } from 'zod';
import type { Tier } from '../core/policy-types.ts';
import type { InspectedTransfer, SquadsAction } from './inspect-transaction.ts';

export const PROTOCOL_VERSION = 1;
export const MAX_FRAME_BYTES = 1024 * 1024;
export const LENGTH_BYTES = 4;
export const HEADER_BYTES = 6;

export const Op = {
  PING: 0x01,
  SIGN: 0x02,
  CREATE_AGENT_KEY: 0x10,
  LOAD_AGENT_KEYS: 0x11,
  SET_POLICY: 0x12,
  ATTEST: 0x13,
  CHECKPOINT: 0x14,
  RECOVER: 0x15,
  STATUS: 0x16,
  USAGE: 0x17,
  RETIRE_AGENT_KEY: 0x18,
  HALT: 0x19,
  SET_AWS_CREDENTIALS: 0x1a,
  MIGRATE_LEGACY_VAULT: 0x1b,
  HELLO: 0x1c,
  HOLD_SPENDS: 0x1d,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];
export const RESPONSE_OK = 0x80;
export const RESPONSE_ERROR = 0x81;

export interface Frame {
  readonly version: number;
  readonly kind: number;
  readonly id: number;
  readonly payload: Buffer;
}

export const encodeFrame = (kind: number, id: number, payload: Uint8Array = EMPTY): Buffer => {
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + HEADER_BYTES + payload.length);
  frame.writeUInt32BE(HEADER_BYTES + payload.length, 0);
  frame[4] = PROTOCOL_VERSION;
  frame[5] = kind;
  frame.writeUInt32BE(id >>> 0, 6);
  frame.set(payload, LENGTH_BYTES + HEADER_BYTES);
  return frame;
};

const EMPTY = new Uint8Array(0);

export const encodeJsonFrame = (kind: number, id: number, value: unknown): Buffer =>
  encodeFrame(kind, id, Buffer.from(JSON.stringify(value), 'utf8'));

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
  readonly layer?: string;
}

export const encodeErrorFrame = (id: number, error: WireError): Buffer =>
  encodeJsonFrame(RESPONSE_ERROR, id, error);

/** Either a whole frame, or a reason the stream cannot continue (the connection must be closed). */
export type FrameEvent = { frame: Frame } | { fatal: string };

/**
 * Splits a byte stream into frames. Oversized or impossibly short lengths are fatal, since the stream
 * cannot be resynchronised; everything else about a frame (version, kind, payload) is for the caller
 * to judge with the request id in hand.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxFrameBytes = MAX_FRAME_BYTES) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Buffer): FrameEvent[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const events: FrameEvent[] = [];
    let buffer = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered);
    let offset = 0;
    while (buffer.length - offset >= LENGTH_BYTES) {
      const length = buffer.readUInt32BE(offset);
      if (length < HEADER_BYTES || length > this.#maxFrameBytes) {
        events.push({
          fatal: length < HEADER_BYTES ? 'frame shorter than its header' : 'frame larger than the maximum',
        });
        this.#chunks = [];
        this.#buffered = 0;
        return events;
      }
      if (buffer.length - offset < LENGTH_BYTES + length) break;
      const start = offset + LENGTH_BYTES;
      events.push({
        frame: {
          version: buffer[start]!,
          kind: buffer[start + 1]!,
          id: buffer.readUInt32BE(start + 2),
          payload: buffer.subarray(start + HEADER_BYTES, start + length),
        },
      });
      offset = start + length;
    }
    if (offset === buffer.length) {
      this.#chunks = [];
      this.#buffered = 0;
    } else {
      buffer = buffer.subarray(offset);
      this.#chunks = [buffer];
      this.#buffered = buffer.length;
    }
    return events;
  }
}

// SIGN

export interface SignRequest {
  readonly walletId: string;
  readonly requestId: string;
  readonly message: Uint8Array;
}

export const encodeSignRequestFrame = (id: number, request: SignRequest): Buffer => {
  const walletIdLength = Buffer.byteLength(request.walletId, 'utf8');
  const requestIdLength = Buffer.byteLength(request.requestId, 'utf8');
  if (walletIdLength > 255 || requestIdLength > 255)
    throw new RangeError('wallet or request id longer than 255 bytes');
  const payloadLength = 2 + walletIdLength + requestIdLength + request.message.length;
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + HEADER_BYTES + payloadLength);
  frame.writeUInt32BE(HEADER_BYTES + payloadLength, 0);
  frame[4] = PROTOCOL_VERSION;
  frame[5] = Op.SIGN;
  frame.writeUInt32BE(id >>> 0, 6);
  let offset = LENGTH_BYTES + HEADER_BYTES;
  frame[offset++] = walletIdLength;
  offset += frame.write(request.walletId, offset, 'utf8');
  frame[offset++] = requestIdLength;
  offset += frame.write(request.requestId, offset, 'utf8');
  frame.set(request.message, offset);
  return frame;
};

/** The request, or undefined when the payload does not hold one. */
export const decodeSignRequest = (payload: Buffer): SignRequest | undefined => {
  if (payload.length < 1) return undefined;
  const walletIdLength = payload[0]!;
  const requestIdAt = 1 + walletIdLength;
  if (payload.length < requestIdAt + 1) return undefined;
  const requestIdLength = payload[requestIdAt]!;
  const messageAt = requestIdAt + 1 + requestIdLength;
  if (payload.length < messageAt) return undefined;
  return {
    walletId: payload.toString('utf8', 1, requestIdAt),
    requestId: payload.toString('utf8', requestIdAt + 1, messageAt),
    message: payload.subarray(messageAt),
  };
};

const TIER_CODES: readonly (Tier | undefined)[] = [undefined, 'instant', 'notify', 'delay', 'approval'];
const ACTION_BITS: Record<SquadsAction, number> = {
  spendingLimitUse: 1,
  vaultTransactionCreate: 2,
  proposalCreate: 4,
  proposalApprove: 8,
};

export interface SignResponse {
  readonly signature: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly tier: Tier | undefined;
  readonly repeated: boolean;
  readonly actions: readonly SquadsAction[];
  readonly transfer: InspectedTransfer | undefined;
}

export const encodeSignResponseFrame = (id: number, response: SignResponse): Buffer => {
  const transfer = response.transfer;
  // Assets and recipients are base58 or "SOL": one byte per character.
  const assetLength = transfer ? transfer.asset.length : 0;
  const recipientLength = transfer?.recipient?.length ?? 0;
  const transferLength = transfer ? 1 + 8 + 32 + 1 + assetLength + 1 + recipientLength : 0;
  const payloadLength = 64 + 32 + 3 + transferLength;
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + HEADER_BYTES + payloadLength);
  frame.writeUInt32BE(HEADER_BYTES + payloadLength, 0);
  frame[4] = PROTOCOL_VERSION;
  frame[5] = RESPONSE_OK;
  frame.writeUInt32BE(id >>> 0, 6);
  let offset = LENGTH_BYTES + HEADER_BYTES;
  frame.set(response.signature, offset);
  frame.set(response.publicKey, offset + 64);
  offset += 96;
  frame[offset++] = TIER_CODES.indexOf(response.tier);
  frame[offset++] = (response.repeated ? 1 : 0) | (transfer ? 2 : 0);
  let actions = 0;
  for (const action of response.actions) actions |= ACTION_BITS[action];
  frame[offset++] = actions;
  if (transfer) {
    frame[offset++] = transfer.route === 'spending-limit' ? 0 : 1;
    frame.writeBigUInt64LE(transfer.amount, offset);
    offset += 8;
    frame.set(transfer.destination, offset);
    offset += 32;
    frame[offset++] = assetLength;
    offset += frame.write(transfer.asset, offset, assetLength, 'latin1');
    frame[offset++] = recipientLength;
    if (recipientLength > 0) frame.write(transfer.recipient!, offset, recipientLength, 'latin1');
  }
  return frame;
};

export interface DecodedSignResponse {
  readonly signature: Uint8Array;
  readonly publicKey: string;
  readonly tier: Tier | undefined;
  readonly repeated: boolean;
  readonly actions: SquadsAction[];
  readonly transfer:
    | {
        route: 'spending-limit' | 'vault-transaction';
        asset: string;
        amount: bigint;
        destination: string;
        recipient: string | undefined;
      }
    | undefined;
}

/** base58 of the keys a client sees again and again (its agent keys, frequent recipients). */
const base58Texts = new Map<string, string>();
const base58Of = (bytes: Buffer): string => {
  const key = bytes.toString('latin1');
  let text = base58Texts.get(key);
  if (text === undefined) {
    if (base58Texts.size >= 4_096) base58Texts.clear();
    text = bs58.encode(bytes);
    base58Texts.set(key, text);
  }
  return text;
};

/** The action list of every bit pattern, worked out once. */
const ACTIONS_OF_BITS: readonly (readonly SquadsAction[])[] = Array.from({ length: 16 }, (_, bits) =>
  (Object.keys(ACTION_BITS) as SquadsAction[]).filter((action) => (bits & ACTION_BITS[action]) !== 0),
);

export const decodeSignResponse = (payload: Buffer): DecodedSignResponse => {
  if (payload.length < 99) throw new RangeError('sign response too short');
  const flags = payload[97]!;
  const actions = [...(ACTIONS_OF_BITS[payload[98]! & 0x0f] ?? [])];
  let transfer: DecodedSignResponse['transfer'];
  if ((flags & 2) !== 0) {
    let offset = 99;
    const route = payload[offset++] === 0 ? 'spending-limit' : 'vault-transaction';
    const amount = payload.readBigUInt64LE(offset);
    offset += 8;
    const destination = base58Of(payload.subarray(offset, offset + 32));
    offset += 32;
    const assetLength = payload[offset++]!;
    const asset = payload.toString('latin1', offset, offset + assetLength);
    offset += assetLength;
    const recipientLength = payload[offset++]!;
    const recipient =
      recipientLength === 0 ? undefined : payload.toString('latin1', offset, offset + recipientLength);
    transfer = { route, amount, destination, asset, recipient };
  }
  return {
    signature: new Uint8Array(payload.subarray(0, 64)),
    publicKey: base58Of(payload.subarray(64, 96)),
    tier: TIER_CODES[payload[96]!],
    repeated: (flags & 1) !== 0,
    actions,
    transfer,
  };
};

// The JSON ops: one table of argument and result schemas for both ends.

/** Checkpoints per CHECKPOINT or HALT answer: a sealed checkpoint is a few KiB, a frame at most 1 MiB. */
export const CHECKPOINT_BATCH = 64;

const text = (max = 256) => z.string().max(max);
const amountText = z.string().regex(/^[0-9]{1,20}$/);
const walletId = text();

export const sealedAgentKeySchema = z.object({
  walletId,
  ownerPublicKey: text(64),
  multisig: text(64),
  publicKey: text(64),
  sealedSeed: z.string().max(16_384),
});

const loadResultSchema = z.object({
  loaded: z.array(z.object({ walletId: z.string(), publicKey: z.string() })),
  failed: z.array(z.object({ walletId: z.string(), publicKey: z.string(), code: z.string() })),
});

/**
 * What the chain shows of one spending limit, as the host read it (src/squads): the enclave takes
 * `amount − remaining` as spent in the period that started at `lastReset`, and never counts less.
 */
export const chainLimitSchema = z.object({
  amount: amountText,
  remaining: amountText,
  /** Unix seconds the limit's current period started. */
  lastReset: z.number().int().min(0).max(1e11),
  /** 0 for a one-time limit (it never resets). */
  periodSeconds: z.number().int().min(0).max(1e9),
});

const recoverWalletSchema = z.object({
  walletId,
  /** The wallet's sealed agent keys, as the daemon stores them. */
  keys: z.array(sealedAgentKeySchema).max(64),
  /** The newest sealed checkpoint the daemon holds for the wallet (base64), if any. */
  checkpoint: z.base64().max(1_000_000).optional(),
  /** Spending limits on chain by asset (SOL or a mint), when the daemon could read them. */
  chain: z.record(z.string().max(64), chainLimitSchema).optional(),
});

const recoveredWalletSchema = z.object({
  walletId: z.string(),
  keys: loadResultSchema,
  /** Where the counters and policy came from: the enclave's own state (journal or memory), the checkpoint, or neither. */
  restoredFrom: z.enum(['own-state', 'checkpoint', 'none']),
  checkpoint: z.object({ sequence: z.number(), at: z.number() }).nullable(),
  policyVersion: z.number().nullable(),
  halted: z.boolean(),
  /** Amounts added per asset so the enclave counts at least what the chain shows spent. */
  raisedToChain: z.record(z.string(), z.string()),
  error: z.object({ code: z.string() }).optional(),
});

export const sealedCheckpointSchema = z.object({
  walletId: z.string(),
  /** Grows with every checkpoint of this enclave instance; the daemon keeps the highest. */
  sequence: z.number().int().min(0),
  policyVersion: z.number().nullable(),
  sealed: z.base64(),
});

const walletStatusSchema = z.object({
  walletId: z.string(),
  agentKeys: z.array(z.string()),
  policyVersion: z.number().nullable(),
  halted: z.boolean(),
});

export const enclaveStatusSchema = z.object({
  protocolVersion: z.number(),
  pid: z.number(),
  /** process: a separate OS process; nitro: inside a Nitro Enclave (NSM attestation). */
  isolation: z.enum(['process', 'nitro']),
  /** How the agent seeds are sealed: by the enclave's own key, or by KMS (to this image only, when attested). */
  seedProtection: z.enum(['enclave-local-key', 'kms-attested', 'kms']),
  attestation: z.enum(['dev', 'nitro', 'none']),
  wallets: z.array(walletStatusSchema),
});

const awsCredentialsSchema = z.object({
  accessKeyId: text(128),
  secretAccessKey: text(256),
  sessionToken: z.string().max(8_192).optional(),
  /** ISO 8601. */
  expiration: z.string().max(64).optional(),
});

interface JsonOpSpec {
  readonly code: number;
  readonly args: z.ZodType;
  readonly result: z.ZodType;
}

export const jsonOps = {
  HELLO: {
    code: Op.HELLO,
    /**
     * The channel handshake (channel.ts): without `proof`, the enclave answers a fresh challenge;
     * with it (HMAC-SHA256 of the challenge under the deployment's channel key), the connection may
     * make every other request.
     */
    args: z.object({ proof: z.base64().max(128).optional() }),
    result: z.object({ challenge: z.base64().optional(), authenticated: z.boolean() }),
  },
  CREATE_AGENT_KEY: {
    code: Op.CREATE_AGENT_KEY,
    args: z.object({ walletId, ownerPublicKey: text(64), multisig: text(64) }),
    result: sealedAgentKeySchema,
  },
  LOAD_AGENT_KEYS: {
    code: Op.LOAD_AGENT_KEYS,
    args: z.object({ keys: z.array(sealedAgentKeySchema).max(100_000) }),
    result: loadResultSchema,
  },
  SET_POLICY: {
    code: Op.SET_POLICY,
    /** The owner-signed bundle; the enclave checks it itself (core/policy.ts). */
    args: z.object({ bundle: z.unknown() }),
    result: z.object({
      walletId: z.string(),
      version: z.number(),
      hash: z.string(),
      unchanged: z.boolean(),
      /** True when this policy lifted a halt. */
      resumed: z.boolean(),
    }),
  },
  ATTEST: {
    code: Op.ATTEST,
    args: z.object({ nonce: z.base64().max(2_048).optional(), walletIds: z.array(walletId).optional() }),
    result: z.object({ document: z.base64(), statement: z.string() }),
  },
  CHECKPOINT: {
    code: Op.CHECKPOINT,
    /**
     * The named wallets, or (none named) up to CHECKPOINT_BATCH wallets whose state changed since
     * their last checkpoint: the caller asks again while it gets a full batch.
     */
    args: z.object({ walletIds: z.array(walletId).max(CHECKPOINT_BATCH).optional() }),
    result: z.object({ checkpoints: z.array(sealedCheckpointSchema) }),
  },
  RECOVER: {
    code: Op.RECOVER,
    args: z.object({ wallets: z.array(recoverWalletSchema).max(10_000) }),
    result: z.object({ wallets: z.array(recoveredWalletSchema) }),
  },
  STATUS: {
    code: Op.STATUS,
    /** Only the named wallets (none: every wallet; mind the frame size with many). */
    args: z.object({ walletIds: z.array(walletId).max(10_000).optional() }),
    result: enclaveStatusSchema,
  },
  USAGE: {
    code: Op.USAGE,
    args: z.object({ walletId }),
    result: z.object({ spent: z.record(z.string(), z.string()), transfersInLastHour: z.number() }),
  },
  RETIRE_AGENT_KEY: {
    code: Op.RETIRE_AGENT_KEY,
    args: z.object({ walletId, publicKey: text(64) }),
    result: z.object({ walletId: z.string(), publicKey: z.string(), unchanged: z.boolean() }),
  },
  HALT: {
    code: Op.HALT,
    /** One wallet, or (none named) every wallet the enclave knows. Needs no owner: halting only narrows. */
    args: z.object({ walletId: walletId.optional(), reason: text(128).optional() }),
    result: z.object({
      halted: z.array(
        z.object({ walletId: z.string(), policyVersion: z.number().nullable(), unchanged: z.boolean() }),
      ),
      /** The halted wallets' checkpoints, for the daemon to store at once. */
      checkpoints: z.array(sealedCheckpointSchema),
    }),
  },
  HOLD_SPENDS: {
    code: Op.HOLD_SPENDS,
    /** Spends since `sinceSeconds` count from now on (AgentEnclave.holdSpends); only ever stricter. */
    args: z.object({ walletId, asset: text(64), sinceSeconds: z.number().int().min(0) }),
    result: z.object({ walletId: z.string(), held: z.string() }),
  },
  SET_AWS_CREDENTIALS: {
    code: Op.SET_AWS_CREDENTIALS,
    /** Credentials the KMS vault calls with (the parent's role): they open nothing without the attestation. */
    args: awsCredentialsSchema,
    result: z.object({ accepted: z.boolean() }),
  },
  MIGRATE_LEGACY_VAULT: {
    code: Op.MIGRATE_LEGACY_VAULT,
    /** Sealed keys under the vault the daemon used to hold: re-sealed under the enclave's own key. */
    args: z.object({ keys: z.array(sealedAgentKeySchema).max(100_000) }),
    result: z.object({
      resealed: z.array(sealedAgentKeySchema),
      failed: z.array(z.object({ walletId: z.string(), publicKey: z.string(), code: z.string() })),
    }),
  },
} as const satisfies Record<string, JsonOpSpec>;

export type JsonOpName = keyof typeof jsonOps;
export type OpArgs<K extends JsonOpName> = z.input<(typeof jsonOps)[K]['args']>;
export type OpResult<K extends JsonOpName> = z.output<(typeof jsonOps)[K]['result']>;
export type SealedCheckpoint = z.output<typeof sealedCheckpointSchema>;
export type EnclaveStatus = z.output<typeof enclaveStatusSchema>;
export type ChainLimit = z.output<typeof chainLimitSchema>;
export type RecoverWallet = z.output<typeof recoverWalletSchema>;
export type RecoveredWallet = z.output<typeof recoveredWalletSchema>;
export type AwsCredentialsArgs = z.output<typeof awsCredentialsSchema>;

/** The JSON op with this code, or undefined. */
export const jsonOpOfCode: ReadonlyMap<number, JsonOpName> = new Map(
  (Object.keys(jsonOps) as JsonOpName[]).map((name) => [jsonOps[name].code, name]),
);
