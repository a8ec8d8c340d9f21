/**
 * Notifications: events recorded in a persisted outbox inside the transaction that caused them, and
 * delivered to owners' webhooks at least once, HMAC-signed (the scheme receivers verify is documented
 * in signature.ts).
 */
export { retryDelayMs } from './backoff.ts';
export { type AttemptResult, attemptDelivery } from './deliver.ts';
export { type EnqueuedEvent, enqueueEvent, type WebhookEvent } from './enqueue.ts';
export { isWebhookEventType, type WebhookEventType, webhookEventTypes } from './events.ts';
export {
  generateWebhookSecret,
  openWebhookSecret,
  sealWebhookSecret,
  type WebhookSecretKey,
  webhookSecretKey,
} from './secret-box.ts';
export {
  signWebhookBody,
  type VerifyWebhookParams,
  type VerifyWebhookResult,
  verifyWebhookSignature,
} from './signature.ts';
export {
  assertWebhookDestination,
  type CheckedDestination,
  checkWebhookDestination,
  type DestinationRules,
  describeWebhookUrl,
  emptyAllowList,
  forbiddenRange,
  parseWebhookUrl,
  type ResolvedAddress,
  type ResolveHost,
  systemResolver,
  type WebhookAllowList,
  webhookAllowList,
  webhookUrlForbidden,
} from './webhook-url.ts';
export {
  createDeliveryWorker,
  type DeliveryOptions,
  type DeliveryWorker,
  type DeliveryWorkerDeps,
} from './worker.ts';
