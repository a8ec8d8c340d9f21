/**
 * The error catalogue: every failure a user or an operator can meet, with a stable code, the HTTP
 * status it maps to, whether retrying the same call can succeed, and what to do about it.
 *
 * Errors are `WaiaasError` instances carrying a code from this catalogue. Their `message` is short
 * and safe to show; `details` holds structured facts (never secrets); `action` says what to do.
 */

export type PolicyLayer = 'server' | 'enclave' | 'chain';

export interface CatalogueEntry {
  readonly status: number;
  readonly title: string;
  readonly retryable: boolean;
  /** What the caller can do about it, in one sentence. */
  readonly action: string;
}

const entry = (status: number, title: string, retryable: boolean, action: string): CatalogueEntry => ({
  status,
  title,
  retryable,
  action,
});

export const errorCatalogue = {
  // input
  VALIDATION_FAILED: entry(400, 'Request validation failed', false, 'Fix the fields named in the details.'),
  INVALID_ADDRESS: entry(400, 'Invalid Solana address', false, 'Send a base58 address of 32 bytes.'),
  INVALID_AMOUNT: entry(
    400,
    'Invalid amount',
    false,
    'Send a positive integer string in base units (lamports or token base units) that fits in u64.',
  ),
  UNSUPPORTED_MEDIA_TYPE: entry(415, 'Unsupported content type', false, 'Send application/json.'),
  PAYLOAD_TOO_LARGE: entry(413, 'Request body too large', false, 'Send a smaller body.'),
  NOT_FOUND: entry(404, 'Not found', false, 'Check the id or path.'),
  IDEMPOTENCY_CONFLICT: entry(
    409,
    'Idempotency key reused with another request',
    false,
    'Use a new idempotency key for a different request.',
  ),
  CONFLICT: entry(
    409,
    'Conflicting state',
    false,
    'Read the current state and try again if it still applies.',
  ),

  // auth
  UNAUTHORIZED: entry(401, 'Missing or invalid token', false, 'Send a valid bearer token.'),
  FORBIDDEN: entry(403, 'Not allowed for this role', false, 'Use a token of a role allowed to do this.'),
  SESSION_REVOKED: entry(401, 'Session revoked', false, 'Ask the owner for a new agent session.'),
  SESSION_EXPIRED: entry(401, 'Session expired', false, 'Ask the owner for a new agent session.'),
  OWNER_UNLOCK_REQUIRED: entry(
    401,
    "Owner's second factor required",
    false,
    'Send the keystore passphrase or MFA code in X-Owner-Unlock.',
  ),
  RATE_LIMITED: entry(429, 'Too many requests', true, 'Wait for the time given in Retry-After.'),

  // policy refusals (carry a layer)
  POLICY_PER_TX_LIMIT: entry(403, 'Over the per-transaction limit', false, 'Send a smaller amount.'),
  POLICY_DAILY_LIMIT: entry(
    403,
    "Over what is left of today's budget",
    false,
    'Send a smaller amount, wait for the window to reset, or ask the owner.',
  ),
  RECIPIENT_NOT_ALLOWED: entry(
    403,
    'Recipient not on the allowlist',
    false,
    'Ask the owner to add the recipient to the policy.',
  ),
  ASSET_NOT_ALLOWED: entry(
    403,
    'Asset not in the policy',
    false,
    'Ask the owner to add the asset to the policy.',
  ),
  OUTSIDE_HOURS: entry(403, 'Outside allowed hours', true, 'Try again within the hours the policy allows.'),
  POLICY_RATE_LIMIT: entry(
    403,
    'Over the transfer rate of the policy',
    true,
    'Wait before the next transfer.',
  ),
  WALLET_FROZEN: entry(403, 'Wallet frozen', false, 'The owner must resume the wallet.'),
  DELAY_NOT_ELAPSED: entry(403, 'Delay not elapsed', true, 'Wait until the delay has passed.'),
  ENCLAVE_REFUSED: entry(403, 'The enclave refused to sign', false, 'See the reason in the details.'),
  POLICY_SIGNATURE_INVALID: entry(
    403,
    "Policy not signed by the wallet's owner",
    false,
    "Sign the policy bundle with the wallet's Owner Key.",
  ),
  POLICY_VERSION_NOT_NEWER: entry(
    409,
    'Policy version not newer than the one in force',
    false,
    'Sign the policy again with a higher version.',
  ),

  // funds and chain
  INSUFFICIENT_FUNDS: entry(409, 'Insufficient funds', false, 'Deposit to the wallet vault or send less.'),
  CHAIN_UNAVAILABLE: entry(503, 'Chain unavailable', true, 'Retry later; check the RPC URL.'),
  MULTISIG_BUSY: entry(
    503,
    "The wallet's multisig is busy",
    true,
    'Retry in a few seconds: another request (on this or another replica) is changing the multisig; if it lasts, check the replicas are healthy.',
  ),
  CHAIN_REJECTED: entry(
    422,
    'Transaction rejected by the chain',
    false,
    'See the program logs in the details.',
  ),

  // keys
  OWNER_KEY_UNAVAILABLE: entry(
    503,
    'Owner key unavailable',
    true,
    'Retry later; check the KMS endpoint and network.',
  ),
  OWNER_KEY_ACCESS_DENIED: entry(
    403,
    'Access to the owner key denied',
    false,
    "Check the KMS key policy and the credentials' permissions.",
  ),
  OWNER_KEY_DISABLED: entry(403, 'Owner key disabled', false, 'Enable the KMS key or configure another one.'),
  OWNER_KEY_INVALID: entry(
    422,
    'Owner key is not an Ed25519 signing key',
    false,
    'Use a KMS key with KeySpec ECC_NIST_EDWARDS25519 and KeyUsage SIGN_VERIFY.',
  ),
  OWNER_KEY_NOT_FOUND: entry(
    422,
    'Owner key not found',
    false,
    'Check the KMS key id and region, or create the owner key again.',
  ),
  OWNER_UNLOCK_INVALID: entry(
    401,
    "Owner's second factor is wrong",
    false,
    'Check the passphrase or MFA code.',
  ),
  SIGNATURE_INVALID: entry(
    502,
    'A signature did not verify',
    false,
    'The signer returned a bad signature; nothing was submitted. Check the signer.',
  ),
  MESSAGE_TOO_LARGE: entry(
    400,
    'Message too large to sign',
    false,
    'KMS signs RAW messages up to 4096 bytes.',
  ),
  KEYSTORE_WRONG_PASSPHRASE: entry(401, 'Wrong keystore passphrase', false, 'Enter the passphrase again.'),
  KEYSTORE_CORRUPT: entry(
    422,
    'Keystore file damaged',
    false,
    'The file was truncated or edited; restore it from a backup.',
  ),
  KEYSTORE_UNSUPPORTED_VERSION: entry(
    422,
    'Keystore version not supported',
    false,
    'Upgrade WAIaaS to a version that reads this keystore.',
  ),
  VAULT_CONTEXT_MISMATCH: entry(
    422,
    'Sealed data belongs to another context',
    false,
    'Unseal with the context it was sealed with.',
  ),
  VAULT_CORRUPT: entry(422, 'Sealed data damaged', false, 'Restore the sealed data from a backup.'),
  VAULT_ACCESS_DENIED: entry(
    403,
    'Access to the vault key denied',
    false,
    "Check that the vault key is enabled, its key policy and the credentials' permissions.",
  ),
  VAULT_UNAVAILABLE: entry(
    503,
    'Key vault unavailable',
    true,
    'Retry later; check the KMS endpoint and network.',
  ),

  // enclave and attestation
  ENCLAVE_UNAVAILABLE: entry(
    503,
    'Enclave unavailable',
    true,
    'Retry shortly; the daemon restarts the enclave.',
  ),
  ENCLAVE_CHANNEL_REFUSED: entry(
    502,
    'The enclave refused the channel',
    false,
    "Give every replica the same daemon secret (keys/): the enclave's channel key is derived from it.",
  ),
  ENCLAVE_PROTOCOL_ERROR: entry(
    502,
    'Enclave protocol error',
    false,
    'Run the daemon and the enclave from the same WAIaaS version; see the details.',
  ),
  ATTESTATION_INVALID: entry(
    502,
    'Attestation document did not verify',
    false,
    'Do not trust this enclave; see the reason in the details.',
  ),

  // configuration and start-up
  CONFIG_INVALID: entry(500, 'Configuration invalid', false, 'Fix the named configuration key.'),
  PROGRAM_HASH_MISMATCH: entry(
    500,
    'Program binary has the wrong hash',
    false,
    'Fetch the pinned Squads v4 binary again (waiaas programs fetch).',
  ),
  PROGRAM_MISSING: entry(
    503,
    'Program binary missing',
    false,
    'Run waiaas programs fetch --rpc <cluster URL>.',
  ),
  LEDGER_CORRUPT: entry(
    500,
    'Localnet ledger damaged',
    false,
    'Move the localnet directory in the data directory away to start a fresh local chain, or restore it from a backup.',
  ),
  PORT_IN_USE: entry(
    500,
    'Port already in use',
    false,
    'Stop the process using the port or choose another one (e.g. WAIAAS_LOCALNET_PORT).',
  ),
  DATABASE_TOO_NEW: entry(
    500,
    'Database is newer than this code',
    false,
    'Run a WAIaaS version at least as new as the one that last migrated this database.',
  ),
  DATABASE_UNAVAILABLE: entry(
    503,
    'Database unavailable',
    true,
    'Check WAIAAS_DB_URL and that the server runs.',
  ),
  INTERNAL: entry(500, 'Internal error', true, 'Retry; if it persists, report it with the request id.'),
  CONSOLE_NOT_BUILT: entry(
    503,
    'Owner console not built',
    false,
    'Run npm run build:web in the WAIaaS folder, then reload /console.',
  ),

  // x402 payments and the agent float (DESIGN.md §11)
  X402_NOT_ENABLED: entry(
    403,
    'x402 payments not enabled for this asset',
    false,
    'Ask the owner to add x402 limits for the asset to the policy.',
  ),
  POLICY_X402_PER_PAYMENT: entry(
    403,
    'Over the per-payment limit for x402',
    false,
    'Pay for something cheaper, or ask the owner to raise x402.perPayment.',
  ),
  FLOAT_NOT_ENABLED: entry(
    403,
    'No agent float for this asset',
    false,
    'Ask the owner to add a float for the asset to the policy, or pay a facilitator that verifies smart wallets.',
  ),
  POLICY_FLOAT_MAX: entry(
    403,
    "Over the float's cap",
    true,
    'Wait until the float is spent or the window passes, or ask the owner to raise float.max.',
  ),
  X402_URL_NOT_ALLOWED: entry(
    403,
    'URL not allowed for x402 payments',
    false,
    'Use a public http(s) URL, or ask the operator to add its origin to x402_allowed_origins.',
  ),
  X402_RESOURCE_UNREACHABLE: entry(
    502,
    'The paid resource could not be reached',
    true,
    'Check the URL and retry later.',
  ),
  X402_INVALID_RESPONSE: entry(
    502,
    'The resource answered 402 without valid x402 payment requirements',
    false,
    'The resource does not speak x402 version 2; see the details.',
  ),
  X402_NO_ACCEPTABLE_OFFER: entry(
    422,
    'None of the payment options can be paid by this wallet',
    false,
    'The resource asks for another scheme, network or version; see the offers in the details.',
  ),
  X402_PRICE_ABOVE_MAX: entry(
    422,
    'Price above the maxAmount of the request',
    false,
    'Raise maxAmount if the price is acceptable.',
  ),
  X402_PAYMENT_FAILED: entry(
    502,
    'The resource did not accept or settle the payment',
    false,
    'See the reason in the details; nothing more is paid by retrying with a new request.',
  ),

  // hardening (issue 11)
  WEBHOOK_URL_FORBIDDEN: entry(
    422,
    'Webhook URL points to a forbidden address',
    false,
    'Use a public http(s) receiver, or ask the operator to allow the host (webhook_allow_hosts).',
  ),
  OWNER_UNLOCK_THROTTLED: entry(
    429,
    'Too many wrong second factors for this owner',
    false,
    'Wait for the time given in Retry-After, then send the right passphrase or MFA code.',
  ),
  FEE_BUDGET_EXCEEDED: entry(
    403,
    "Over the wallet's daily fee budget",
    true,
    "The fee payer has spent what the policy's fees.dailyLamports allows for this wallet today (rent of new token accounts and approval requests): wait, or ask the owner to raise it.",
  ),
  TOO_MANY_OPEN_APPROVALS: entry(
    403,
    'Too many approval requests open',
    true,
    'Wait until the owner approves or rejects the open ones (expired ones are closed at the next owner act), or ask the owner to raise fees.maxOpenApprovals.',
  ),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface WaiaasErrorOptions {
  /** A short sentence replacing the catalogue title as the message. */
  message?: string;
  /** Structured, non-secret facts about this occurrence. */
  details?: Record<string, unknown>;
  layer?: PolicyLayer;
  cause?: unknown;
}

export class WaiaasError extends Error {
  override readonly name = 'WaiaasError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly action: string;
  readonly details: Record<string, unknown>;
  readonly layer: PolicyLayer | undefined;

  constructor(code: ErrorCode, options: WaiaasErrorOptions = {}) {
    const entry: CatalogueEntry = errorCatalogue[code];
    super(options.message ?? entry.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = entry.status;
    this.retryable = entry.retryable;
    this.action = entry.action;
    this.details = options.details ?? {};
    this.layer = options.layer;
  }
}

export const isWaiaasError = (value: unknown, code?: ErrorCode): value is WaiaasError =>
  value instanceof WaiaasError && (code === undefined || value.code === code);
