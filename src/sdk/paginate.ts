/** Lists as async iterators: `for await (const item of client.transfers.list(walletId))` follows `nextCursor`. */
import type { Page } from './types.ts';

export interface ListOptions {
  /** Items per page (the server caps it). */
  limit?: number;
  /** Start after this cursor (a `nextCursor` from an earlier page). */
  cursor?: string;
}

/** Every item of a list, fetched a page at a time, only as far as the caller reads. */
export class Paginated<T> implements AsyncIterable<T> {
  readonly #fetchPage: (cursor: string | undefined) => Promise<Page<T>>;
  readonly #start: string | undefined;

  constructor(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, start?: string) {
    this.#fetchPage = fetchPage;
    this.#start = start;
  }

  /** The first page alone, with its cursor. */
  firstPage(): Promise<Page<T>> {
    return this.#fetchPage(this.#start);
  }

  async *pages(): AsyncGenerator<Page<T>> {
    let cursor = this.#start;
    const seen = new Set<string>();
    for (;;) {
      const page = await this.#fetchPage(cursor);
      yield page;
      if (page.nextCursor === null || page.nextCursor === undefined || page.items.length === 0) return;
      // A server answering the same cursor again would loop forever; stop instead.
      if (seen.has(page.nextCursor)) return;
      seen.add(page.nextCursor);
      cursor = page.nextCursor;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Up to `max` items (default: all) in an array. */
  async toArray(max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const items: T[] = [];
    if (max <= 0) return items;
    for await (const item of this) {
      items.push(item);
      if (items.length >= max) break;
    }
    return items;
  }
}
