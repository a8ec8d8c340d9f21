/**
 * The live feed: one stream of the owner's events (GET /v1/events as server-sent events, read with
 * fetch because EventSource cannot send the bearer token) shared by every page. Pages subscribe to
 * the entries they care about and reload their data when one arrives, so an agent's request shows in
 * the inbox without a reload. The SDK resumes a dropped stream from its last event id.
 */
import { type ComponentChildren, createContext } from 'preact';
import { useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AuditEntry, WaiaasClient } from '../../src/sdk/index.ts';

export type FeedStatus = 'connecting' | 'live' | 'offline';
type Listener = (entry: AuditEntry) => void;

interface Feed {
  readonly status: FeedStatus;
  subscribe(listener: Listener): () => void;
}

const FeedContext = createContext<Feed>({ status: 'offline', subscribe: () => () => undefined });

export function FeedProvider(props: { client: WaiaasClient; children: ComponentChildren }) {
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const listeners = useRef(new Set<Listener>());

  useEffect(() => {
    const abort = new AbortController();
    void (async () => {
      try {
        for await (const event of props.client.events.stream({ signal: abort.signal })) {
          if (event.type === 'ready') setStatus('live');
          else for (const listener of listeners.current) listener(event.entry);
        }
      } catch {
        // The first connection failed, or the token stopped working: say so rather than pretend.
      }
      if (!abort.signal.aborted) setStatus('offline');
    })();
    return () => abort.abort();
  }, [props.client]);

  const feed = useMemo<Feed>(
    () => ({
      status,
      subscribe(listener) {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
    }),
    [status],
  );
  return <FeedContext.Provider value={feed}>{props.children}</FeedContext.Provider>;
}

export const useFeedStatus = (): FeedStatus => useContext(FeedContext).status;

/** A burst of entries (an agent sending many transfers) costs a page one reload per this window. */
const COALESCE_MS = 750;

/**
 * Calls `onEntry` when entries of the feed that `matches` arrive: at once for the first, then at most
 * once per window with the last one, so a burst does not turn into a burst of reloads against the
 * daemon's rate limit. The newest callback is always used.
 */
export function useFeed(matches: (entry: AuditEntry) => boolean, onEntry: (entry: AuditEntry) => void): void {
  const { subscribe } = useContext(FeedContext);
  const latest = useRef({ matches, onEntry });
  latest.current = { matches, onEntry };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiting: AuditEntry | undefined;
    const unsubscribe = subscribe((entry) => {
      if (!latest.current.matches(entry)) return;
      if (timer !== undefined) {
        waiting = entry;
        return;
      }
      latest.current.onEntry(entry);
      const flush = () => {
        timer = undefined;
        if (waiting === undefined) return;
        const last = waiting;
        waiting = undefined;
        latest.current.onEntry(last);
        timer = setTimeout(flush, COALESCE_MS);
      };
      timer = setTimeout(flush, COALESCE_MS);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, [subscribe]);
}
