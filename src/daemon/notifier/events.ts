/** The events an owner can subscribe a webhook to. */
export const webhookEventTypes = [
  'transfer.confirmed',
  'transfer.failed',
  'transfer.delayed',
  'transfer.cancelled',
  'transfer.rejected',
  'transfer.expired',
  'approval.requested',
  'approval.approved',
  'approval.rejected',
  'wallet.frozen',
  'wallet.resumed',
  'wallet.agent_rotated',
  'wallet.withdrawn',
  'monitor.alert',
] as const;

export type WebhookEventType = (typeof webhookEventTypes)[number];

export const isWebhookEventType = (value: string): value is WebhookEventType =>
  (webhookEventTypes as readonly string[]).includes(value);
