/**
 * The audit log's head, watched for the live feed of the owner console. The audit log lives in the one
 * database every replica writes, and its sequence only grows, so watching the head row tells this
 * replica about the acts of all of them: a transfer another replica accepted, a freeze the monitor of a
 * third made. One cheap primary-key read per interval, and only while someone listens; each listener
 * then reads its own owner's entries after its own cursor.
 */
import { readAuditHead } from '../../store/audit.ts';
import type { Store } from '../../store/index.ts';
import type { Logger } from '../logger.ts';

export type HeadListener = (head: bigint) => void;

export interface AuditTail {
  /** The head's sequence now (a new listener starts here unless it resumes from a cursor). */
  head(): Promise<bigint>;
  /** Calls `listener` whenever the head moves; the returned function stops it. */
  subscribe(listener: HeadListener): () => void;
  /** Stops watching and drops every listener. */
  close(): void;
}

export interface AuditTailOptions {
  readonly store: Pick<Store, 'db'>;
  readonly logger: Logger;
  /** How often the head is read while anyone listens. */
  readonly pollMs?: number;
}

export function createAuditTail({ store, logger, pollMs = 250 }: AuditTailOptions): AuditTail {
  const listeners = new Set<HeadListener>();
  let timer: NodeJS.Timeout | undefined;
  let last: bigint | undefined;
  let reading = false;

  const head = async () => BigInt((await readAuditHead(store.db)).sequence);

  const check = async () => {
    if (reading) return;
    reading = true;
    try {
      const now = await head();
      if (last === undefined || now > last) {
        last = now;
        for (const listener of listeners) listener(now);
      }
    } catch (error) {
      // A database hiccup skips one beat; the next read catches up from the listeners' cursors.
      logger.warn({ err: error }, 'could not read the audit head for the live feed');
    } finally {
      reading = false;
    }
  };

  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    last = undefined;
  };

  return {
    head,
    subscribe(listener) {
      listeners.add(listener);
      timer ??= setInterval(() => void check(), pollMs);
      timer.unref();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    close() {
      listeners.clear();
      stop();
    },
  };
}
