/**
 * The API's shapes as the SDK hands them out: amounts as bigint base units (strings on the wire),
 * everything else as the daemon sends it. Duplicated from the daemon on purpose: the SDK depends on
 * the HTTP contract only, never on the daemon's code.
 */

/** "SOL" for native lamports, otherwise the base58 address of an SPL mint. */
export type AssetId = string;

export type Tier = 'instant' | 'notify' | 'delay' | 'approval';

export type TransferStatus =
  | 'received'
  | 'rejected'
  | 'delayed'
  | 'pending_approval'
  | 'signing'
  | 'submitted'
  | 'confirmed'
  | 'failed'
  | 'cancelled'
  | 'expired';

export type WalletStatus = 'creating' | 'active' | 'frozen' | 'failed';

export interface AssetLimits {
  /** The largest single transfer the agent may ask for at all; above it a request is refused. */
  perTransaction: bigint;
  /** The agent's autonomous budget per day (instant + notify + delay); also the on-chain spending limit. */
  daily: bigint;
  tiers: { instantMax: bigint; notifyMax: bigint; delayMax: bigint; delaySeconds: number };
  /** x402 payments of this token: each at most `perPayment`, only to `payees` when listed. */
  x402?: { perPayment: bigint; payees?: string[] };
  /** The agent float of this token (for facilitators that take only plain transfers): at most `max`. */
  float?: { max: bigint };
}

export type RecipientRule = { mode: 'allowlist'; addresses: string[] } | { mode: 'any' };

/** The owner's policy for one wallet (DESIGN.md §4). */
export interface Policy {
  version: number;
  assets: Record<AssetId, AssetLimits>;
  recipients: RecipientRule;
  /** [start, end) in whole UTC hours, and UTC weekdays (0 = Sunday). */
  hours: { utc: [number, number]; days: number[] };
  rate: { maxPerHour: number };
  approvalTimeoutSeconds: number;
  /**
   * What the fee payer may spend for the agent per day (rent of recipients' new token accounts and of
   * approval requests) and how many approval requests may be open; defaults 0.1 SOL and 10.
   */
  fees?: { dailyLamports?: bigint; maxOpenApprovals?: number };
}

export type OwnerSignerSpec =
  | { kind: 'local'; passphrase: string }
  | { kind: 'aws-kms'; region: string; keyId?: string; endpoint?: string; mfaSerial?: string };

export interface CreatedOwner {
  id: string;
  /** Shown once: keep it. */
  token: string;
  publicKey: string;
}

export interface Wallet {
  id: string;
  name: string;
  status: WalletStatus;
  multisig: string;
  /** The wallet address (Squads vault 0); deposit here. */
  vault: string;
  agentPublicKey?: string;
  ownerPublicKey: string;
  policy: Policy;
  /** Why the wallet is frozen; null when it is not. */
  frozenReason: FrozenReason | null;
  createdAt: string;
  [field: string]: unknown;
}

/**
 * Why a wallet is frozen: the owner's freeze, a monitor rule, or spending under the agent's on-chain
 * limit that the daemon did not send (a leaked agent key).
 */
export interface FrozenReason {
  code:
    | 'OWNER_FREEZE'
    | 'SPEND_BYPASSED_DAEMON'
    | 'MONITOR_REPEATED_REFUSALS'
    | 'MONITOR_OUTSIDE_HOURS'
    | 'MONITOR_VELOCITY'
    | 'MONITOR_ENCLAVE_RESTARTS'
    | 'UNRECORDED';
  /** Facts for the owner: counts, thresholds, amounts (base units as strings). */
  detail: Record<string, unknown>;
  /** ISO 8601. */
  at: string;
}

export interface CreatedSession {
  id: string;
  /** Shown once: hand it to the agent. */
  token: string;
  expiresAt: string;
}

/** Who an agent token is (`GET /v1/session`): its session, its wallet, and the policy it acts under. */
export interface CurrentSession {
  /** The wallet the token is bound to: what every agent call names. */
  walletId: string;
  session: SessionInfo;
  wallet: { id: string; name: string; status: WalletStatus; vault: string };
  policy: Policy;
}

export interface TransferRequest {
  /** The recipient's wallet address (for a token, its associated token account receives). */
  to: string;
  /** Base units: `sol("0.25")` or `parseUnits("1.5", 6)`. */
  amount: bigint;
  /** An SPL mint; omit for SOL. */
  mint?: string | undefined;
  memo?: string | undefined;
  /** Reused for every retry of this call; generated when omitted. */
  idempotencyKey?: string | undefined;
}

/** A transfer as the API shows it. */
export interface Transfer {
  id: string;
  walletId: string;
  status: TransferStatus;
  tier: Tier;
  /** Absent for a transfer: an x402 payment, a fill of the agent float, or its sweep to the vault. */
  kind?: 'x402' | 'float_fill' | 'float_sweep';
  /** "SOL" or the mint. */
  asset: AssetId;
  amount: bigint;
  to: string;
  memo?: string;
  /** The transaction that moved (or tried to move) the funds. */
  signature?: string;
  /** Approval tier: the agent's proposal transaction. */
  proposalSignature?: string;
  /** Approval tier: the Squads transaction index. */
  transactionIndex?: string;
  /** Delay tier: when it will be signed (ISO). */
  executeAfter?: string;
  /** Approval tier: when it expires undecided (ISO). */
  expiresAt?: string;
  /** Why it was refused or failed. */
  error?: { code: string; message: string };
  createdAt: string;
  updatedAt: string;
}

/**
 * The answer to a transfer request: `confirmed` (instant, notify), or waiting (`delayed`,
 * `pending_approval`), or still on its way (`received`, `signing`, `submitted`).
 */
export interface TransferOutcome extends Transfer {
  /** The idempotency key the SDK sent: send again with it to get this same transfer. */
  idempotencyKey: string;
}

/** A rejected transfer; with the owner's second factor the proposal is also voted down on chain. */
export interface RejectedTransfer extends Transfer {
  rejectionSignature?: string;
}

export type LayerName = 'server' | 'enclave' | 'chain';

/** One layer's own verdict in a dry run (the enclave's is a prediction from its own counters). */
export interface DryRunLayerVerdict {
  /** False when the layer was not asked or could not be (see `code`). */
  checked: boolean;
  allowed: boolean | null;
  tier?: Tier;
  code?: string;
  title?: string;
  action?: string;
  details?: Record<string, string | number>;
  /** The counters or chain figures the verdict was reached with, as the daemon wrote them. */
  basis?: Record<string, string | number | null>;
  asOf?: string;
  notes: string[];
}

/** The amounts that get a tier (inclusive), and the largest of them every checked layer passes now. */
export interface DryRunTierRange {
  tier: Tier;
  from: bigint;
  to: bigint | null;
  upTo: bigint | null;
}

/** What a transfer request would meet now, at each layer, with nothing reserved, signed or sent. */
export interface DryRunResult {
  walletId: string;
  asset: AssetId;
  amount: bigint;
  to: string;
  /** Whether every checked layer would pass it now. */
  allowed: boolean;
  tier?: Tier;
  /** Delay tier: seconds before it would be signed. */
  delaySeconds?: number;
  /** The first refusal, in the order a real transfer meets the layers. */
  code?: string;
  layer?: LayerName;
  title?: string;
  action?: string;
  layers: Record<LayerName, DryRunLayerVerdict>;
  budget: {
    asset: AssetId;
    perTransaction: bigint | null;
    daily: bigint | null;
    windowSeconds: number;
    /** Left of `daily` at each layer (null where unknown), and the least of them. */
    remaining: {
      server: bigint | null;
      enclave: bigint | null;
      chain: bigint | null;
      effective: bigint | null;
    };
    /** What the vault holds of the asset, when the chain was read. */
    balance: bigint | null;
    tiers: DryRunTierRange[];
    delaySeconds: number | null;
    rate: { maxPerHour: number; windowSeconds: number; used: number; remaining: number };
    hours: { utc: [number, number]; days: number[]; allowedNow: boolean };
  };
  evaluatedAt: string;
}

export interface Balance {
  walletId: string;
  vault: string;
  /** Lamports in the vault. */
  sol: bigint;
  /** Each token the policy names, with the vault's associated token account. */
  tokens: { mint: string; account: string; amount: bigint; decimals: number | null; exists: boolean }[];
}

export interface LayerUsage {
  spent: bigint;
  /** What is left of the policy's daily amount; null when the policy names no such asset. */
  remaining: bigint | null;
}

export interface AssetUsage {
  /** "SOL" or the mint. */
  asset: AssetId;
  daily: bigint | null;
  server: LayerUsage;
  /** Null while the enclave cannot be asked. */
  enclave: LayerUsage | null;
  /** The on-chain spending limit; null when there is none (e.g. frozen). */
  chain: {
    address: string;
    amount: bigint;
    spent: bigint;
    remaining: bigint;
    lastReset: number;
    periodStart: number;
  } | null;
}

/** Spent and remaining per asset at each layer (server, enclave, chain). */
export interface Usage {
  walletId: string;
  status: WalletStatus;
  policyVersion: number;
  /** The rolling daily window of the server and the enclave, in seconds. */
  windowSeconds: number;
  chainTime: number | null;
  assets: AssetUsage[];
  rate: { windowSeconds: number; enclaveTransfers: number | null };
  enclave: { available: boolean; error?: { code: string; message: string } };
}

/** The owner-signed policy in force. */
export interface WalletPolicy {
  walletId: string;
  status: WalletStatus;
  version: number;
  policy: Policy;
  ownerPublicKey: string;
  /** base64 Ed25519 signature of the owner over the policy bundle. */
  signature: string;
}

/** How one layer took an owner act: done now, already so, or pending (repeat the same call). */
export interface LayerOutcome {
  status: 'done' | 'unchanged' | 'pending';
  signature?: string;
  error?: { code: string; message: string };
}

export interface PolicyChangeResult {
  walletId: string;
  policyVersion: number;
  policy: Policy;
  enclave: LayerOutcome;
  chain: LayerOutcome;
}

export interface FreezeResult {
  walletId: string;
  status: 'frozen';
  server: { changed: boolean; cancelledTransfers: string[]; inFlightTransfers: string[] };
  enclave: LayerOutcome & { policyVersion: number };
  chain: LayerOutcome;
}

export interface ResumeResult {
  walletId: string;
  status: 'active';
  agentPublicKey: string;
  policyVersion: number;
  chain: LayerOutcome;
  enclave: LayerOutcome;
}

export interface RotateAgentKeyResult {
  walletId: string;
  vault: string;
  oldAgentPublicKey: string;
  agentPublicKey: string;
  chain: LayerOutcome;
  retired: boolean;
}

export interface WithdrawRequest {
  /** The owner's address receiving the funds. */
  to: string;
  /** Base units, or "all". */
  amount: bigint | 'all';
  /** A token's mint; omit for SOL. */
  mint?: string | undefined;
  /** Reused for every retry of this call; generated when omitted. */
  idempotencyKey?: string | undefined;
}

export interface WithdrawResult {
  walletId: string;
  to: string;
  asset: AssetId;
  amount: bigint;
  signature: string;
  /** True when this answers a repeated call with the same idempotency key. */
  repeated: boolean;
}

export interface Health {
  status: 'ok' | 'degraded' | 'down';
  version: string;
  network: string;
  uptimeSeconds: number;
  db: { ok: boolean; latencyMs: number; engine: 'sqlite' | 'postgres'; error?: string };
  chain: { ok: boolean; latencyMs: number; rpcUrl: string; slot?: string; version?: string; error?: string };
  squads: { status: 'loaded' | 'missing' | 'unknown'; fix?: string };
  /** The agent enclave: up or not, how it is isolated and what opens its sealed seeds. */
  enclave?: {
    state: 'starting' | 'up' | 'down' | 'stopped';
    restarts: number;
    since: string;
    isolation: 'process' | 'nitro';
    seedProtection: 'enclave-local-key' | 'kms-attested' | 'kms';
  };
  [field: string]: unknown;
}

export interface Attestation {
  /** COSE_Sign1 attestation document, base64. */
  document: string;
  statement: string;
}

export interface AuditEntry {
  /** Position in the chain, from 1 (a decimal string). */
  sequence: string;
  /** ISO 8601 time of the act. */
  at: string;
  kind: string;
  actor: { role: 'operator' | 'owner' | 'agent' | 'system' | 'anonymous'; id?: string };
  ownerId: string | null;
  walletId: string | null;
  subject: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  head: { sequence: number; hash: string };
  firstBroken?: { sequence: number; reason: string };
}

export interface Webhook {
  id: string;
  url: string;
  /** null: every event. */
  events: string[] | null;
  createdAt: string;
}

export interface CreatedWebhook extends Webhook {
  /** The HMAC signing secret, when the daemon generated it: shown this once. */
  secret?: string;
}

export interface WebhookDelivery {
  id: string;
  eventId: string;
  type: string;
  walletId: string | null;
  status: 'pending' | 'delivering' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** One page of a list: `{items, nextCursor}` on the wire. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An agent session as its owner sees it; its token was shown once, at creation. */
export interface SessionInfo {
  id: string;
  walletId: string;
  label: string | null;
  status: 'active' | 'revoked' | 'expired';
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

/** A page of the owner's feed: the entries after a cursor, oldest first, and the cursor to pass next. */
export interface EventPage {
  items: AuditEntry[];
  cursor: string;
}

/** One event of the owner's live feed: the stream is live (from `cursor`), or an audit entry arrived. */
export type OwnerEvent =
  | { type: 'ready'; cursor: string }
  | { type: 'entry'; entry: AuditEntry; cursor: string };
export interface X402PayRequest {
  /** The http(s) URL of the paid resource. */
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  /** The most this call may pay, in base units of the asset the resource asks for. */
  maxAmount: bigint;
}

export interface X402Payment {
  transferId: string;
  /** vault: a spendingLimitUse under the on-chain limit; float: from the agent float. */
  path: 'vault' | 'float';
  /** The mint. */
  asset: AssetId;
  amount: bigint;
  payTo: string;
  /** CAIP-2, e.g. solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp. */
  network: string;
  /** The settled transaction. */
  transaction: string;
  payer?: string;
  /** The float fill this payment needed first. */
  fill?: { transferId: string; amount: bigint };
  /** A vault payment the facilitator would not take, before the float paid. */
  declined?: { transferId: string; reason: string };
}

export interface X402PayResult {
  /** false: the resource did not ask for payment; its answer is here all the same. */
  paid: boolean;
  /** The resource's HTTP status. */
  status: number;
  contentType?: string;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  payment?: X402Payment;
}

export interface FloatSweepResult {
  walletId: string;
  swept: { mint: string; amount: bigint; transferId: string; status: string; signature?: string }[];
}

export interface OperatorTokenInfo {
  id: string;
  label: string;
  createdAt: string;
  /** null while the token is valid. */
  revokedAt: string | null;
}

export interface CreatedOperatorToken extends OperatorTokenInfo {
  /** Shown once: store it now. */
  token: string;
}
