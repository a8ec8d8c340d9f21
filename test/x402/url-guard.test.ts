/**
 * The guard on what an agent may make the daemon fetch (server-side request forgery): only public
 * addresses, checked on the addresses the connection is made to (literal IPs before any request,
 * names at lookup), unless the operator allows the origin by name.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { fetchResource } from '../../src/daemon/x402/fetch-resource.ts';
import { isPublicAddress, parsePaymentUrl } from '../../src/daemon/x402/url-guard.ts';

describe('the x402 URL guard', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_request, response) => {
      hits++;
      response.writeHead(200, { 'content-type': 'text/plain' }).end('inside');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const fetchCode = (url: string, allowed: string[] = []) =>
    fetchResource({ url: parsePaymentUrl(url), method: 'GET', headers: {}, body: undefined }, allowed).then(
      (response) => response.status,
      (error: unknown) => (isWaiaasError(error) ? error.code : String(error)),
    );

  it('tells public addresses from loopback, private, link-local, shared, reserved and mapped ones', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001::1'])
      expect([address, isPublicAddress(address)]).toEqual([address, true]);
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fc00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:169.254.169.254',
      '64:ff9b::7f00:1',
      'not an address',
    ])
      expect([address, isPublicAddress(address)]).toEqual([address, false]);
  });

  it('refuses a loopback address by literal IP or by name, and never connects', async () => {
    expect(await fetchCode(`http://127.0.0.1:${port}/`)).toBe('X402_URL_NOT_ALLOWED');
    expect(await fetchCode(`http://[::1]:${port}/`)).toBe('X402_URL_NOT_ALLOWED');
    expect(await fetchCode(`http://localhost:${port}/`)).toBe('X402_URL_NOT_ALLOWED');
    expect(await fetchCode(`http://0x7f000001:${port}/`)).toBe('X402_URL_NOT_ALLOWED');
    expect(hits).toBe(0);
  });

  it('lets the operator allow an origin by name, and only that origin', async () => {
    const origin = `http://127.0.0.1:${port}`;
    expect(await fetchCode(`${origin}/x`, [origin])).toBe(200);
    expect(hits).toBe(1);
    expect(await fetchCode(`http://localhost:${port}/x`, [origin])).toBe('X402_URL_NOT_ALLOWED');
    expect(hits).toBe(1);
  });

  it('takes only absolute http(s) URLs without credentials or fragments', () => {
    for (const url of [
      'file:///etc/passwd',
      'ftp://example.com/',
      'http://user:pw@example.com/',
      'https://example.com/#x',
      'relative/path',
    ])
      expect(() => parsePaymentUrl(url)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
