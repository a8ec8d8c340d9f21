/** Webhooks: HMAC-signed deliveries of the owner's events to a URL. */
import { type CallOptions, type HttpTransport, path } from '../http.ts';
import { type ListOptions, Paginated } from '../paginate.ts';
import type { CreatedWebhook, Page, Webhook, WebhookDelivery } from '../types.ts';

export interface CreateWebhookParams {
  url: string;
  /** Event types to deliver; every event when omitted. */
  events?: string[];
  /** The HMAC key (24+ printable characters); generated and returned once when omitted. */
  secret?: string;
}

export interface DeliveryListOptions extends ListOptions, CallOptions {
  status?: WebhookDelivery['status'];
}

export const webhooksApi = (http: HttpTransport) => ({
  /** The answer holds the signing secret, shown once. */
  async create(params: CreateWebhookParams, call?: CallOptions): Promise<CreatedWebhook> {
    return (await http.request<CreatedWebhook>({ method: 'POST', path: '/v1/webhooks', body: params }, call))
      .body;
  },

  /** The owner's webhooks, never their secrets (one page; a later cursor is followed). */
  list(call: CallOptions = {}): Paginated<Webhook> {
    return new Paginated(async (cursor) => {
      const response = await http.request<Page<Webhook>>(
        { method: 'GET', path: '/v1/webhooks', query: { cursor } },
        call,
      );
      return response.body;
    });
  },

  /** Deletes the webhook; deliveries not yet sent are cancelled. */
  async delete(webhookId: string, call?: CallOptions): Promise<void> {
    await http.request({ method: 'DELETE', path: path`/v1/webhooks/${webhookId}` }, call);
  },

  /** The webhook's deliveries, newest first, dead-lettered ones (status failed) included. */
  deliveries(webhookId: string, options: DeliveryListOptions = {}): Paginated<WebhookDelivery> {
    return new Paginated(async (cursor) => {
      const response = await http.request<Page<WebhookDelivery>>(
        {
          method: 'GET',
          path: path`/v1/webhooks/${webhookId}/deliveries`,
          query: { cursor, limit: options.limit, status: options.status },
        },
        options,
      );
      return response.body;
    }, options.cursor);
  },

  /** Sends a dead-lettered delivery again, from its first attempt. */
  async redeliver(
    webhookId: string,
    deliveryId: string,
    call?: CallOptions,
  ): Promise<{ id: string; status: 'pending' }> {
    const response = await http.request<{ id: string; status: 'pending' }>(
      { method: 'POST', path: path`/v1/webhooks/${webhookId}/deliveries/${deliveryId}/redeliver` },
      call,
    );
    return response.body;
  },
});

export type WebhooksApi = ReturnType<typeof webhooksApi>;
