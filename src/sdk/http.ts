/**
 * One HTTP call to the daemon with the standard `fetch`: auth headers, JSON in and out, problems turned
 * into typed errors, and transient failures retried when doing the call twice cannot do harm twice.
 */
import { toJson } from './codec.ts';
import { errorFromResponse, WaiaasNetworkError } from './errors.ts';
import { isTransient, type RetryOptions, resolveRetry, retryDelayMs, sleep } from './retry.ts';

export interface ClientOptions {
  /** The daemon's base URL, e.g. http://127.0.0.1:7700. */
  url: string;
  /** Bearer token: an operator, owner or agent session token. */
  token?: string | undefined;
  /** The owner's second factor (keystore passphrase or MFA code), sent only with owner-key acts. */
  ownerUnlock?: string | undefined;
  /** Retrying of transient failures; `false` turns it off. */
  retry?: RetryOptions | false | undefined;
  /** Time allowed for one attempt, in ms. Default 60,000 (a transfer waits for its confirmation). */
  timeoutMs?: number | undefined;
  /** Another fetch (a proxy-aware one, a test double); default globalThis.fetch. */
  fetch?: typeof fetch | undefined;
}

/** What every method takes last. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** The owner's second factor for this call, instead of the client's `ownerUnlock`. */
  ownerUnlock?: string | undefined;
  retry?: RetryOptions | false | undefined;
  timeoutMs?: number | undefined;
}

/** For calls that change state: with a key, a retried call is answered from the first one. */
export interface IdempotentCallOptions extends CallOptions {
  idempotencyKey?: string | undefined;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRequest {
  method: HttpMethod;
  /** Path with its parameters already encoded (see `path`). */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Sent as the Idempotency-Key header; makes a POST safe to retry. */
  idempotencyKey?: string;
  /** Whether doing the call twice has the effect of doing it once (freeze, resume), so it may be retried. */
  repeatable?: boolean;
  /** Whether the call is an owner-key act that needs X-Owner-Unlock. */
  ownerAct?: boolean;
  /** Whether to send the bearer token (public endpoints do not need it). */
  auth?: boolean;
  /** Error statuses whose body is still the answer (health's 503). */
  acceptStatuses?: readonly number[];
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** Builds a path from a template, encoding each parameter: path`/v1/wallets/${id}`. */
export const path = (strings: TemplateStringsArray, ...params: string[]): string =>
  strings.reduce((out, text, index) => {
    const param = params[index - 1];
    if (param !== undefined && (typeof param !== 'string' || param === '')) {
      throw new TypeError('path parameters must be non-empty strings');
    }
    return out + (index === 0 ? '' : encodeURIComponent(param ?? '')) + text;
  });

const SAFE_METHODS: ReadonlySet<HttpMethod> = new Set(['GET', 'PUT', 'DELETE']);

export class HttpTransport {
  readonly baseUrl: string;
  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
      throw new TypeError('url must be the http(s) URL of the daemon, e.g. http://127.0.0.1:7700');
    }
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.#options = options;
  }

  /** The call, retried while it fails transiently and is safe to repeat. */
  async request<T>(request: ApiRequest, call: CallOptions = {}): Promise<ApiResponse<T>> {
    const retry = resolveRetry(call.retry ?? this.#options.retry);
    const repeatable =
      SAFE_METHODS.has(request.method) || request.repeatable === true || request.idempotencyKey !== undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once<T>(request, call);
      } catch (error) {
        if (!repeatable || attempt >= retry.attempts || !isTransient(error)) throw error;
        const delay = retryDelayMs(error, attempt, retry);
        if (delay === undefined) throw error;
        await sleep(delay, call.signal);
      }
    }
  }

  /**
   * Opens a streamed answer (server-sent events) and hands back the response once its headers are in;
   * the caller reads and cancels the body. No timeout and no retry: a stream lasts as long as the
   * caller's signal lets it, and a resumed stream needs the caller's cursor.
   */
  async stream(
    request: ApiRequest,
    call: Pick<CallOptions, 'signal'> & { headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const url = this.#url(request);
    const headers = { ...this.#headers(request, {}), accept: 'text/event-stream', ...call.headers };
    const doFetch = this.#options.fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(url, { method: request.method, headers, signal: call.signal });
    } catch (error) {
      if (call.signal?.aborted) throw call.signal.reason;
      throw new WaiaasNetworkError(url, error);
    }
    if (!response.ok) {
      const text = await response.text();
      throw errorFromResponse(
        response.status,
        parseBody(text, response.headers.get('content-type')),
        response.headers,
      );
    }
    return response;
  }

  #headers(request: ApiRequest, call: CallOptions): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.auth !== false && this.#options.token)
      headers.authorization = `Bearer ${this.#options.token}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
    const unlock = call.ownerUnlock ?? this.#options.ownerUnlock;
    if (request.ownerAct && unlock !== undefined) headers['x-owner-unlock'] = unlock;
    return headers;
  }

  async #once<T>(request: ApiRequest, call: CallOptions): Promise<ApiResponse<T>> {
    const url = this.#url(request);
    const headers = this.#headers(request, call);

    const timeout = AbortSignal.timeout(call.timeoutMs ?? this.#options.timeoutMs ?? 60_000);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    const doFetch = this.#options.fetch ?? globalThis.fetch;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, {
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: toJson(request.body) }),
        signal,
      });
      text = await response.text();
    } catch (error) {
      // The caller's own abort is final; anything else (refused, reset, timed out) may be retried.
      if (call.signal?.aborted) throw call.signal.reason;
      throw new WaiaasNetworkError(url, error);
    }
    const body = parseBody(text, response.headers.get('content-type'));
    if (!response.ok && !request.acceptStatuses?.includes(response.status))
      throw errorFromResponse(response.status, body, response.headers);
    return { status: response.status, body: body as T, headers: response.headers };
  }

  #url(request: ApiRequest): string {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) query.set(key, String(value));
    }
    const search = query.size > 0 ? `?${query}` : '';
    return `${this.baseUrl}${request.path}${search}`;
  }
}

const parseBody = (text: string, contentType: string | null): unknown => {
  if (text === '') return undefined;
  if (contentType && /json/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
};
