import { signWebhookBody } from './signature.ts';

export interface DeliveryRequest {
  url: string;
  secret: string;
  eventId: string;
  body: string;
  timeoutMs: number;
  /** Aborts the attempt when the worker stops. */
  signal?: AbortSignal;
}

export type AttemptResult =
  | { ok: true; statusCode: number }
  | { ok: false; statusCode: number | null; error: string };

/** Why a request failed, without the URL (its query may hold a receiver's key) or any header. */
const describeFailure = (error: unknown, timeoutMs: number): string => {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'aborted';
  }
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? `request failed (${cause.code})` : 'request failed';
};

/**
 * One attempt: POST the body, signed over a fresh timestamp. Only a 2xx counts as delivered;
 * redirects are not followed (3xx is a failure), and the answer's body is not read.
 */
export async function attemptDelivery(request: DeliveryRequest): Promise<AttemptResult> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'WAIaaS-Webhooks/1',
        'x-waiaas-event-id': request.eventId,
        'x-waiaas-timestamp': timestamp,
        'x-waiaas-signature': signWebhookBody(request.secret, timestamp, request.body),
      },
      body: request.body,
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, statusCode: response.status };
    return { ok: false, statusCode: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, statusCode: null, error: describeFailure(error, request.timeoutMs) };
  }
}
