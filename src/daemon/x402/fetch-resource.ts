/**
 * One HTTP request to the paid resource, through the URL guard: the connection goes only to addresses
 * the guard checked, redirects are returned rather than followed, the answer is read up to a size
 * limit and a deadline. Failures to reach the resource are X402_RESOURCE_UNREACHABLE; a guard refusal
 * stays X402_URL_NOT_ALLOWED.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isWaiaasError, WaiaasError } from '../../core/errors.ts';
import { guardUrl } from './url-guard.ts';

export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
export const REQUEST_TIMEOUT_MS = 30_000;

export interface ResourceRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

export interface ResourceResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export const headerOf = (response: ResourceResponse, name: string): string | undefined => {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
};

const unreachable = (url: URL, reason: string) =>
  new WaiaasError('X402_RESOURCE_UNREACHABLE', {
    message: `The resource at ${url.origin} could not be reached: ${reason}.`,
    details: { origin: url.origin, reason },
  });

export async function fetchResource(
  request: ResourceRequest,
  allowedOrigins: readonly string[],
): Promise<ResourceResponse> {
  const { url } = request;
  const guard = guardUrl(url, allowedOrigins);
  guard.assertLiteralAddress();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      url,
      {
        method: request.method,
        headers: {
          ...request.headers,
          ...(request.body !== undefined && { 'content-length': Buffer.byteLength(request.body) }),
        },
        lookup: guard.lookup as never,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            incoming.destroy();
            reject(unreachable(url, `the answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks),
          }),
        );
        incoming.on('error', (error) => reject(unreachable(url, error.message)));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    outgoing.on('error', (error) => reject(isWaiaasError(error) ? error : unreachable(url, error.message)));
    outgoing.end(request.body);
  });
}
