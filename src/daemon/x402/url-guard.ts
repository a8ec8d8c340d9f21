/**
 * Where an agent may send the daemon for an x402 payment. The agent names any URL and the daemon
 * fetches it from inside the operator's network, so this is a server-side request forgery guard:
 * only http(s), no credentials or fragment, and the host must resolve to public addresses only —
 * checked on the addresses the connection is then made to (the lookup is pinned, so a name that
 * rebinds between check and connect cannot slip through), and for literal IPs before any request.
 * The operator may allow origins that are not public (a local service, tests) by name in
 * `x402_allowed_origins`. Redirects are never followed (see fetch-resource.ts).
 *
 * The webhook sender needs the same guard (src/daemon/notifier/webhook-url.ts); the two should share
 * one module.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { WaiaasError } from '../../core/errors.ts';

const MAX_URL_LENGTH = 2048;

/** Loopback, private, link-local, shared, multicast, reserved and documentation ranges. */
const notPublic = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  notPublic.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  notPublic.addSubnet(network, prefix, 'ipv6');
}

/** Whether `address` (IPv4 or IPv6 text) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !notPublic.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1]!);
  return !notPublic.check(address, 'ipv6');
}

const refuse = (reason: string, url?: URL) =>
  new WaiaasError('X402_URL_NOT_ALLOWED', {
    message: `The URL cannot be fetched for an x402 payment: ${reason}.`,
    details: { reason, ...(url ? { origin: url.origin } : {}) },
  });

const invalid = (reason: string) =>
  new WaiaasError('VALIDATION_FAILED', { message: `Invalid URL: ${reason}.`, details: { field: 'url' } });

/** The URL, if its form is one the daemon fetches at all (the address is checked at connection). */
export function parsePaymentUrl(value: string): URL {
  if (value.length > MAX_URL_LENGTH) throw invalid(`longer than ${MAX_URL_LENGTH} characters`);
  if (!URL.canParse(value)) throw invalid('not an absolute URL');
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('only http and https are allowed');
  if (url.username !== '' || url.password !== '') throw invalid('credentials in the URL are not allowed');
  if (url.hash !== '') throw invalid('a fragment is not allowed');
  if (url.hostname === '') throw invalid('no host');
  return url;
}

export type GuardedLookup = (
  hostname: string,
  options: { all?: boolean; family?: number | string },
  callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
) => void;

export interface UrlGuard {
  /** Whether this origin is on the operator's list (then any address is allowed). */
  readonly allowed: boolean;
  /** Throws X402_URL_NOT_ALLOWED for a literal IP that is not public (names are checked at lookup). */
  assertLiteralAddress(): void;
  /** A `lookup` for http.request that resolves, refuses non-public answers, and pins what it checked. */
  readonly lookup: GuardedLookup;
}

/** The guard for one request to `url`, under the operator's `allowedOrigins`. */
export function guardUrl(url: URL, allowedOrigins: readonly string[]): UrlGuard {
  const allowed = allowedOrigins.includes(url.origin);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    allowed,
    assertLiteralAddress() {
      if (!allowed && isIP(hostname) !== 0 && !isPublicAddress(hostname))
        throw refuse('the address is not public', url);
    },
    lookup(name, options, callback) {
      dnsLookup(name, { all: true, family: Number(options.family ?? 0) as 0 | 4 | 6 }, (error, addresses) => {
        if (error) return callback(error, []);
        const list = addresses as LookupAddress[];
        if (list.length === 0) return callback(refuse('the name does not resolve', url), []);
        if (!allowed && list.some((entry) => !isPublicAddress(entry.address)))
          return callback(refuse('the name resolves to an address that is not public', url), []);
        if (options.all) return callback(null, list);
        return callback(null, list[0]!.address, list[0]!.family);
      });
    },
  };
}
