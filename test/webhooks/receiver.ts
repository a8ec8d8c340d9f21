/**
 * A real webhook receiver on 127.0.0.1, written the way the module doc of
 * src/daemon/notifier/signature.ts tells receivers to: it verifies each request's signature over the
 * raw body, and processes each event id once (deliveries are at least once). `respond` decides each
 * answer, so a test can fail the first attempts, hang past the sender's timeout, and so on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/daemon/notifier/index.ts';

export interface ReceivedRequest {
  eventId: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  signatureValid: boolean;
  receivedAt: number;
}

export interface Receiver {
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Event bodies processed, each event id once. */
  readonly processed: { id: string; type: string; walletId: string; data: Record<string, unknown> }[];
  /** Set once the webhook's secret is known. */
  secret: string | undefined;
  /** How to answer the n-th request (0-based); default 200. 'hang' answers only after `hangMs`. */
  respond: (index: number, request: ReceivedRequest) => number | 'hang';
  hangMs: number;
  close(): Promise<void>;
}

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
};

export async function startReceiver(): Promise<Receiver> {
  const seen = new Set<string>();
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: '',
    requests: [],
    processed: [],
    secret: undefined,
    respond: () => 200,
    hangMs: 0,
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    const received: ReceivedRequest = {
      eventId: header(request, 'x-waiaas-event-id'),
      timestamp: header(request, 'x-waiaas-timestamp'),
      signature: header(request, 'x-waiaas-signature'),
      body,
      signatureValid: false,
      receivedAt: Date.now(),
    };
    received.signatureValid =
      receiver.secret !== undefined &&
      verifyWebhookSignature({
        secret: receiver.secret,
        timestamp: received.timestamp,
        signature: received.signature,
        body,
      }).ok;
    const index = receiver.requests.push(received) - 1;
    if (!received.signatureValid) {
      response.writeHead(401).end();
      return;
    }
    const answer = receiver.respond(index, received);
    const event = JSON.parse(body);
    // A failing receiver processes nothing; a hanging one processed the event but its 200 is lost.
    if ((answer === 'hang' || answer < 300) && !seen.has(event.id)) {
      seen.add(event.id);
      receiver.processed.push(event);
    }
    if (answer === 'hang') {
      hanging.add(response);
      setTimeout(() => {
        hanging.delete(response);
        if (!response.destroyed) response.writeHead(200).end();
      }, receiver.hangMs);
      return;
    }
    response.writeHead(answer).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (receiver as { url: string }).url = `http://127.0.0.1:${port}/hooks?key=receiver-side-key`;
  return receiver;
}

export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
