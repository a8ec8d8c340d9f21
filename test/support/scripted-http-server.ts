/**
 * A stand-in for a daemon in trouble, named as such: the real daemon cannot be made to answer 503, 429
 * with Retry-After, or drop a connection on cue. A real node:http server answering from a script, for
 * the SDK's transport tests: each request takes the next answer (the last one repeats) and is
 * recorded with its method, URL, headers, body and arrival time.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Answer =
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  | { destroy: true }
  | ((request: Recorded) => { status: number; body?: unknown; headers?: Record<string, string> });

export interface ScriptedServer {
  readonly url: string;
  readonly requests: Recorded[];
  script(...answers: Answer[]): void;
  close(): Promise<void>;
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  let answers: Answer[] = [];
  const requests: Recorded[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const recorded = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
        at: Date.now(),
      };
      requests.push(recorded);
      const next = answers.length > 1 ? answers.shift()! : answers[0];
      if (next === undefined) throw new Error('no answer scripted');
      if ('destroy' in next) {
        request.socket.destroy();
        return;
      }
      const answer = typeof next === 'function' ? next(recorded) : next;
      const isProblem = answer.status >= 400 && typeof answer.body === 'object';
      const send = () => {
        if (response.destroyed) return;
        response.writeHead(answer.status, {
          'content-type': isProblem ? 'application/problem+json' : 'application/json',
          ...answer.headers,
        });
        response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      };
      const delayMs = 'delayMs' in answer && typeof answer.delayMs === 'number' ? answer.delayMs : 0;
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...next) => {
      answers = next;
      requests.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const problemBody = (
  code: string,
  status: number,
  retryable: boolean,
  extra: Record<string, unknown> = {},
) => ({
  type: `https://waiaas.dev/errors/${code.toLowerCase()}`,
  title: code,
  status,
  code,
  detail: `${code} happened.`,
  retryable,
  action: 'Do something.',
  ...extra,
});
