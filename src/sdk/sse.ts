/**
 * Server-sent events as the WHATWG spec frames them, parsed from text chunks in whatever pieces the
 * network delivers: fields `event`, `data` (several lines joined by "\n"), `id` and `retry`; comment
 * lines (":") and unknown fields ignored. Pure: the reading of the stream is elsewhere.
 */

export interface ServerSentEvent {
  /** "message" when the server named none. */
  event: string;
  data: string;
  /** The last id the stream set, carried by every later event until it sets another. */
  id: string | undefined;
}

export class ServerSentEventParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  /** The reconnection delay the server asked for, in ms. */
  retryMs: number | undefined;

  /** Takes the next chunk of text; returns the events it completed. */
  push(chunk: string): ServerSentEvent[] {
    this.#buffer += chunk;
    const events: ServerSentEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      // A lone "\r" at the end may be half of "\r\n": wait for the next chunk.
      if (match === null || (match[0] === '\r' && match.index === this.#buffer.length - 1)) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const event = this.#line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /** The id of the last event the stream set: where a reconnection resumes. */
  get lastEventId(): string | undefined {
    return this.#id;
  }

  #line(line: string): ServerSentEvent | undefined {
    if (line === '') {
      const complete = this.#data.length > 0;
      const event = { event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id };
      this.#event = '';
      this.#data = [];
      return complete ? event : undefined;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return undefined;
  }
}
