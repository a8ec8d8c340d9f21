/**
 * The owner's live feed: the audit entries about them and their wallets as they are appended (a
 * transfer waiting for approval, one confirmed, a freeze, a policy change), streamed as server-sent
 * events over `fetch` (EventSource cannot send the bearer token), or read a page at a time.
 */
import type { CallOptions, HttpTransport } from '../http.ts';
import { isTransient, sleep } from '../retry.ts';
import { ServerSentEventParser } from '../sse.ts';
import type { AuditEntry, EventPage, OwnerEvent } from '../types.ts';

export interface EventListOptions extends CallOptions {
  /** The cursor of an earlier page or event; without it the answer is empty with the newest cursor. */
  after?: string;
  limit?: number;
}

export interface EventStreamOptions {
  /** Resume after this cursor (an event's `cursor`); without it, only what happens from now on. */
  after?: string;
  /** Ends the stream. */
  signal?: AbortSignal;
  /**
   * Reconnect (from the last cursor, so nothing is missed) when an established stream drops, after the
   * delay the server asked for. Default true. A first connection that fails always throws.
   */
  reconnect?: boolean;
}

const DEFAULT_RETRY_MS = 2_000;

export const eventsApi = (http: HttpTransport) => ({
  /** The entries after `after`, oldest first, and the cursor to pass next time. */
  async list(options: EventListOptions = {}): Promise<EventPage> {
    const response = await http.request<EventPage>(
      { method: 'GET', path: '/v1/events', query: { after: options.after, limit: options.limit } },
      options,
    );
    return response.body;
  },

  /**
   * Every event from now (or after `after`) until `signal` aborts: first `ready` once the stream is
   * live, then one `entry` per audit entry. After a reconnection another `ready` comes first.
   */
  async *stream(options: EventStreamOptions = {}): AsyncGenerator<OwnerEvent> {
    let cursor = options.after;
    let established = false;
    let retryMs = DEFAULT_RETRY_MS;
    for (;;) {
      let response: Response;
      try {
        response = await http.stream(
          { method: 'GET', path: '/v1/events', query: { after: cursor } },
          { ...(options.signal ? { signal: options.signal } : {}) },
        );
      } catch (error) {
        if (options.signal?.aborted) return;
        // A refusal (a revoked token) is final; only a dropped connection or a busy daemon is retried.
        if (!established || options.reconnect === false || !isTransient(error)) throw error;
        await sleep(retryMs, options.signal).catch(() => undefined);
        continue;
      }
      established = true;
      const parser = new ServerSentEventParser();
      const reader = response.body?.getReader();
      const decoder = new TextDecoder();
      try {
        while (reader) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const event of parser.push(decoder.decode(value, { stream: true }))) {
            if (event.id !== undefined) cursor = event.id;
            if (event.event === 'ready') {
              yield { type: 'ready', cursor: (JSON.parse(event.data) as { cursor: string }).cursor };
            } else {
              const entry = JSON.parse(event.data) as AuditEntry;
              yield { type: 'entry', entry, cursor: entry.sequence };
            }
          }
        }
      } catch (error) {
        if (options.signal?.aborted) return;
        if (options.reconnect === false) throw error;
      } finally {
        await reader?.cancel().catch(() => undefined);
      }
      if (options.signal?.aborted || options.reconnect === false) return;
      retryMs = parser.retryMs ?? retryMs;
      await sleep(retryMs, options.signal).catch(() => undefined);
      if (options.signal?.aborted) return;
    }
  },
});

export type EventsApi = ReturnType<typeof eventsApi>;
