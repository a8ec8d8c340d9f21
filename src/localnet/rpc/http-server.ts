import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Dispatcher } from './dispatch.ts';
import { RpcErrorCode } from './errors.ts';
import { toJson } from './json.ts';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
  'access-control-allow-headers': 'content-type, solana-client',
};

const PARSE_ERROR = toJson({
  jsonrpc: '2.0',
  id: null,
  error: { code: RpcErrorCode.PARSE_ERROR, message: 'Parse error' },
});

export interface RpcHttpServer {
  server: Server;
  /** Stops listening after letting clients finish what they already sent for `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/** Solana JSON-RPC over HTTP POST (single requests and batches), plus GET /health like a validator. */
export function createRpcHttpServer(dispatch: Dispatcher): RpcHttpServer {
  let draining = false;
  const reply = (res: ServerResponse, status: number, body: string, type = 'application/json'): void => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      ...CORS_HEADERS,
      ...(draining ? { connection: 'close' } : {}),
    });
    res.end(body);
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS_HEADERS);
      res.end();
      return;
    }
    if (req.method === 'GET' && req.url === '/health') {
      reply(res, 200, 'ok', 'text/plain');
      return;
    }
    if (req.method !== 'POST') {
      reply(res, 405, 'Used HTTP Method is not allowed. POST is required', 'text/plain');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reply(res, 413, 'Request body too large', 'text/plain');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let body: unknown;
      try {
        body = JSON.parse(
          chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
        );
      } catch {
        return reply(res, 200, PARSE_ERROR);
      }
      const response = dispatch(body);
      if (response === undefined) {
        res.writeHead(204, CORS_HEADERS);
        res.end();
        return;
      }
      reply(res, 200, toJson(response));
    });
  };
  const server = createServer(handle);
  // Benchmarks and SDKs keep connections open between bursts.
  server.keepAliveTimeout = 65_000;
  return {
    server,
    // SDKs fire requests they do not await (web3.js checks a signature's status in the background
    // while it also waits for the notification), so closing at once would reset them mid-flight.
    close: (graceMs = 100) =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        draining = true;
        setTimeout(() => {
          server.close(() => resolve());
          server.closeAllConnections();
        }, graceMs);
      }),
  };
}
