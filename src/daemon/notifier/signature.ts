/**
 * How a webhook receiver knows a request came from this daemon, unaltered and recent.
 *
 * Each delivery is an HTTP POST of a JSON body
 *   {"id": "evt_…", "type": "transfer.confirmed", "createdAt": "<ISO 8601>", "walletId": "…", "data": {…}}
 * with the headers
 *   Content-Type:       application/json
 *   X-WAIaaS-Event-Id:  the body's `id`; the same for every attempt at this event (dedupe on it)
 *   X-WAIaaS-Timestamp: Unix time in seconds when this attempt was sent (decimal)
 *   X-WAIaaS-Signature: v1=<hex HMAC-SHA256(key, timestamp + "." + rawBody)>
 * where key is the UTF-8 bytes of the webhook's secret as shown when it was created (the whole string,
 * `waiaas_whsec_` prefix included) and rawBody the request body's bytes exactly as received.
 *
 * To verify: recompute the HMAC over the received timestamp header, a ".", and the raw body; compare
 * in constant time; refuse a timestamp more than a few minutes from your clock (replays); then skip
 * an event id you have already processed (deliveries are at least once: a lost 2xx means the same
 * event again, with a new timestamp and signature but the same id and body). The event id is inside
 * the signed body, so it cannot be swapped. `verifyWebhookSignature` below does the first three steps.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_VERSION = 'v1';

export const signWebhookBody = (secret: string, timestamp: string, body: string): string =>
  `${SIGNATURE_VERSION}=${createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${timestamp}.${body}`, 'utf8')
    .digest('hex')}`;

export interface VerifyWebhookParams {
  secret: string;
  /** X-WAIaaS-Timestamp */
  timestamp: string | undefined;
  /** X-WAIaaS-Signature */
  signature: string | undefined;
  /** The raw body as received. */
  body: string;
  /** Accept timestamps this far from now (default 300 s). */
  toleranceSeconds?: number;
  nowSeconds?: number;
}

export type VerifyWebhookResult = { ok: true } | { ok: false; reason: string };

export function verifyWebhookSignature(params: VerifyWebhookParams): VerifyWebhookResult {
  const { timestamp, signature } = params;
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad timestamp' };
  const now = params.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (params.toleranceSeconds ?? 300))
    return { ok: false, reason: 'timestamp too old or in the future' };
  if (signature === undefined) return { ok: false, reason: 'no signature' };
  const expected = Buffer.from(signWebhookBody(params.secret, timestamp, params.body), 'utf8');
  // A header may carry several comma-separated signatures (e.g. during a secret rotation).
  const matches = signature
    .split(',')
    .map((part) => Buffer.from(part.trim(), 'utf8'))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
  return matches ? { ok: true } : { ok: false, reason: 'signature does not match' };
}
