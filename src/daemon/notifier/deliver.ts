import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isWaiaasError } from '../../core/errors.ts';
import { signWebhookBody } from './signature.ts';
import { type CheckedDestination, checkWebhookDestination, type DestinationRules } from './webhook-url.ts';

export interface DeliveryRequest {
  url: string;
  secret: string;
  eventId: string;
  body: string;
  timeoutMs: number;
  /** What the destination may be (allow list, resolver); checked again before every attempt. */
  rules: DestinationRules;
  /** Aborts the attempt when the worker stops. */
  signal?: AbortSignal;
}

export type AttemptResult =
  | { ok: true; statusCode: number }
  | { ok: false; statusCode: number | null; error: string };

/** Why a request failed, without the URL (its query may hold a receiver's key) or any header. */
const describeFailure = (error: unknown, timeout: AbortSignal, timeoutMs: number): string => {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return timeout.aborted ? `no answer within ${timeoutMs} ms` : 'aborted';
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `request failed (${code})` : 'request failed';
};

/** A resolver that answers only the address already checked: the connection goes nowhere else. */
const pinnedLookup =
  (destination: CheckedDestination): LookupFunction =>
  (_hostname, options, callback) => {
    const { address, family } = destination;
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, [
        { address, family },
      ]);
    } else {
      callback(null, address, family);
    }
  };

const post = (
  url: URL,
  destination: CheckedDestination,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<number> =>
  new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
        lookup: pinnedLookup(destination),
        // No pooled socket: every attempt connects to the address it has just checked.
        agent: false,
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end(body);
  });

/**
 * One attempt: check where the URL points now, then POST the body, signed over a fresh timestamp, to
 * exactly the address checked. A destination refused now fails the attempt before any connection.
 * Only a 2xx counts as delivered; redirects are not followed (3xx is a failure), and the answer's
 * body is not read.
 */
export async function attemptDelivery(request: DeliveryRequest): Promise<AttemptResult> {
  const url = new URL(request.url);
  let destination: CheckedDestination;
  try {
    destination = await checkWebhookDestination(url, request.rules);
  } catch (error) {
    if (!isWaiaasError(error)) throw error;
    return { ok: false, statusCode: null, error: `${error.code}: ${error.message}` };
  }
  const timestamp = String(Math.floor(Date.now() / 1000));
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  try {
    const status = await post(
      url,
      destination,
      {
        'content-type': 'application/json',
        'user-agent': 'WAIaaS-Webhooks/1',
        'x-waiaas-event-id': request.eventId,
        'x-waiaas-timestamp': timestamp,
        'x-waiaas-signature': signWebhookBody(request.secret, timestamp, request.body),
      },
      request.body,
      signal,
    );
    if (status >= 200 && status < 300) return { ok: true, statusCode: status };
    return { ok: false, statusCode: status, error: `HTTP ${status}` };
  } catch (error) {
    return { ok: false, statusCode: null, error: describeFailure(error, timeout, request.timeoutMs) };
  }
}
