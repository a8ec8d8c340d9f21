/**
 * waiaas/sdk: a typed client for the WAIaaS HTTP API. Node 20+ (or any runtime with `fetch`), no
 * dependencies. Amounts are bigint base units; `sol("0.25")` and `parseUnits("1.5", 6)` make them.
 */
export {
  formatSol,
  formatUnits,
  InvalidAmountError,
  LAMPORTS_PER_SOL,
  parseUnits,
  SOL_DECIMALS,
  sol,
  U64_MAX,
} from './amounts.ts';
export { createClient, type OpenApiDocument, WaiaasClient } from './client.ts';
export type { PolicyInput, WirePolicy } from './codec.ts';
export { policyToWire } from './codec.ts';
export {
  AuthError,
  ChainError,
  ConflictError,
  EnclaveUnavailableError,
  errorFromResponse,
  IdempotencyConflictError,
  InsufficientFundsError,
  NotFoundError,
  type PolicyLayer,
  PolicyRefusedError,
  type Problem,
  RateLimitedError,
  ServerError,
  ValidationError,
  WaiaasApiError,
  WaiaasNetworkError,
} from './errors.ts';
export type { CallOptions, ClientOptions, IdempotentCallOptions } from './http.ts';
export { type ListOptions, Paginated } from './paginate.ts';
export type { ApprovalListOptions } from './resources/approvals.ts';
export type { AuditListOptions } from './resources/audit.ts';
export type { EventListOptions, EventStreamOptions } from './resources/events.ts';
export type { CreateOwnerParams } from './resources/owners.ts';
export type { CreateSessionParams } from './resources/sessions.ts';
export type { DryRunOptions, TransferListOptions } from './resources/transfers.ts';
export type { Accepted, CreateWalletParams, ResumeParams } from './resources/wallets.ts';
export type { CreateWebhookParams, DeliveryListOptions } from './resources/webhooks.ts';
export type { RetryOptions } from './retry.ts';
export type * from './types.ts';
