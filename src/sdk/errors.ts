/**
 * Errors the API answers, as classes a caller can `instanceof`: each carries the problem's stable
 * `code`, whether the same call can succeed later (`retryable`) and what to do (`action`).
 */

export type PolicyLayer = 'server' | 'enclave' | 'chain';

/** RFC 9457 problem details as the daemon renders them. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  retryable: boolean;
  action?: string;
  layer?: PolicyLayer;
  details?: Record<string, unknown>;
  requestId?: string;
}

export interface ApiErrorFields extends Problem {
  /** Seconds from a Retry-After header, when the answer had one. */
  retryAfter?: number;
}

/** Any answer from the API that is not a success. */
export class WaiaasApiError extends Error {
  override name = 'WaiaasApiError';
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly retryable: boolean;
  /** What to do about it, in one sentence. */
  readonly action: string;
  readonly layer: PolicyLayer | undefined;
  readonly details: Record<string, unknown>;
  readonly requestId: string | undefined;
  readonly type: string | undefined;
  /** Seconds the server asked to wait before trying again (Retry-After). */
  readonly retryAfter: number | undefined;

  constructor(fields: ApiErrorFields, options?: { cause?: unknown }) {
    super(fields.detail || fields.title, options);
    this.code = fields.code;
    this.status = fields.status;
    this.title = fields.title;
    this.detail = fields.detail;
    this.retryable = fields.retryable;
    this.action = fields.action ?? '';
    this.layer = fields.layer;
    this.details = fields.details ?? {};
    this.requestId = fields.requestId;
    this.type = fields.type;
    this.retryAfter = fields.retryAfter;
  }
}

/** A policy layer (server, enclave or chain) refused the transfer; `layer` says which. */
export class PolicyRefusedError extends WaiaasApiError {
  override name = 'PolicyRefusedError';
  declare readonly layer: PolicyLayer;
}

/** The token is missing, wrong, revoked or expired, the role may not do this, or the owner's second factor is missing or wrong. */
export class AuthError extends WaiaasApiError {
  override name = 'AuthError';
}

export class NotFoundError extends WaiaasApiError {
  override name = 'NotFoundError';
}

/** Too many requests; `retryAfter` is the number of seconds to wait. */
export class RateLimitedError extends WaiaasApiError {
  override name = 'RateLimitedError';
}

/** The agent enclave is down for a moment (the daemon restarts it). */
export class EnclaveUnavailableError extends WaiaasApiError {
  override name = 'EnclaveUnavailableError';
}

/** The chain could not be reached, or it rejected the transaction (program logs in `details`). */
export class ChainError extends WaiaasApiError {
  override name = 'ChainError';
}

/** The request itself is wrong (fields, address, amount, body); the same request never succeeds. */
export class ValidationError extends WaiaasApiError {
  override name = 'ValidationError';
}

/** The idempotency key was used before with a different request. */
export class IdempotencyConflictError extends WaiaasApiError {
  override name = 'IdempotencyConflictError';
}

/** The vault holds less than the transfer needs. */
export class InsufficientFundsError extends WaiaasApiError {
  override name = 'InsufficientFundsError';
}

/** The state changed under the request (e.g. a policy version not newer than the one in force). */
export class ConflictError extends WaiaasApiError {
  override name = 'ConflictError';
}

/** The daemon failed inside, or something between it and us answered with an error page. */
export class ServerError extends WaiaasApiError {
  override name = 'ServerError';
}

/** No answer at all: connection refused or reset, DNS, or the per-attempt timeout. */
export class WaiaasNetworkError extends Error {
  override readonly name = 'WaiaasNetworkError';
  readonly code = 'NETWORK_ERROR';
  readonly retryable = true;
  readonly action = 'Check that the daemon runs at the configured URL and retry.';
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`No answer from ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

type ErrorClass = new (fields: ApiErrorFields, options?: { cause?: unknown }) => WaiaasApiError;

const POLICY_CODES = [
  'POLICY_PER_TX_LIMIT',
  'POLICY_DAILY_LIMIT',
  'RECIPIENT_NOT_ALLOWED',
  'ASSET_NOT_ALLOWED',
  'OUTSIDE_HOURS',
  'POLICY_RATE_LIMIT',
  'WALLET_FROZEN',
  'DELAY_NOT_ELAPSED',
  'ENCLAVE_REFUSED',
  'FEE_BUDGET_EXCEEDED',
  'TOO_MANY_OPEN_APPROVALS',
] as const;

const classByCode: Record<string, ErrorClass> = {
  ...Object.fromEntries(POLICY_CODES.map((code) => [code, PolicyRefusedError])),
  UNAUTHORIZED: AuthError,
  FORBIDDEN: AuthError,
  SESSION_REVOKED: AuthError,
  SESSION_EXPIRED: AuthError,
  OWNER_UNLOCK_REQUIRED: AuthError,
  OWNER_UNLOCK_INVALID: AuthError,
  KEYSTORE_WRONG_PASSPHRASE: AuthError,
  NOT_FOUND: NotFoundError,
  RATE_LIMITED: RateLimitedError,
  ENCLAVE_UNAVAILABLE: EnclaveUnavailableError,
  CHAIN_UNAVAILABLE: ChainError,
  CHAIN_REJECTED: ChainError,
  VALIDATION_FAILED: ValidationError,
  INVALID_ADDRESS: ValidationError,
  INVALID_AMOUNT: ValidationError,
  UNSUPPORTED_MEDIA_TYPE: ValidationError,
  PAYLOAD_TOO_LARGE: ValidationError,
  IDEMPOTENCY_CONFLICT: IdempotencyConflictError,
  INSUFFICIENT_FUNDS: InsufficientFundsError,
  CONFLICT: ConflictError,
  POLICY_VERSION_NOT_NEWER: ConflictError,
};

const classByStatus = (status: number): ErrorClass => {
  if (status === 401 || status === 403) return AuthError;
  if (status === 404) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 429) return RateLimitedError;
  if (status >= 400 && status < 500) return ValidationError;
  return ServerError;
};

/** Seconds from a Retry-After header: delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a JSON body is one of our problems (and not, say, a proxy's error page). */
export const isProblem = (body: unknown): body is Problem =>
  isRecord(body) &&
  typeof body.code === 'string' &&
  typeof body.status === 'number' &&
  typeof body.title === 'string';

const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);

/**
 * The error for an answer: by the problem's `code` when it is ours (a problem with a `layer` is always
 * a policy refusal), otherwise by HTTP status with a synthetic `HTTP_<status>` code.
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  headers?: { get(name: string): string | null },
) {
  const retryAfterHeader = parseRetryAfter(headers?.get('retry-after'));
  if (isProblem(body)) {
    const detailsRetryAfter = body.details?.retryAfterSeconds;
    const retryAfter =
      retryAfterHeader ?? (typeof detailsRetryAfter === 'number' ? detailsRetryAfter : undefined);
    const ErrorType = body.layer ? PolicyRefusedError : (classByCode[body.code] ?? classByStatus(status));
    return new ErrorType({
      ...body,
      detail: typeof body.detail === 'string' ? body.detail : body.title,
      retryable: body.retryable === true,
      status,
      ...(retryAfter === undefined ? {} : { retryAfter }),
    });
  }
  const ErrorType = classByStatus(status);
  const text = typeof body === 'string' ? body.slice(0, 200) : '';
  return new ErrorType({
    code: `HTTP_${status}`,
    status,
    title: `HTTP ${status}`,
    detail: text === '' ? `The server answered HTTP ${status} without a problem document.` : text,
    retryable: TRANSIENT_STATUSES.has(status) || status >= 500,
    action: 'Check the daemon URL and that nothing between you and the daemon rewrites answers.',
    ...(retryAfterHeader === undefined ? {} : { retryAfter: retryAfterHeader }),
  });
}
