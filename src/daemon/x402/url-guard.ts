/**
 * Where an agent may send the daemon for an x402 payment. The agent names any URL and the daemon
 * fetches it from inside the operator's network, so this is a server-side request forgery guard:
 * only http(s), no credentials or fragment, and the host must resolve to public addresses only —
 * checked on the addresses the connection is then made to (the lookup is pinned, so a name that
 * rebinds between check and connect cannot slip through), and for literal IPs before any request.
 * The operator may allow origins that are not public (a local service, tests) by name in
 * `x402_allowed_origins`. Redirects are never followed (see fetch-resource.ts).
 *
 * The address rules are the webhook sender's too (src/daemon/net/outbound.ts).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { WaiaasError } from '../../core/errors.ts';
import { isLocalName, isPublicAddress, parseOutboundUrl } from '../net/outbound.ts';

export { isPublicAddress };

const refuse = (reason: string, url?: URL) =>
  new WaiaasError('X402_URL_NOT_ALLOWED', {
    message: `The URL cannot be fetched for an x402 payment: ${reason}.`,
    details: { reason, ...(url ? { origin: url.origin } : {}) },
  });

/** The URL, if its form is one the daemon fetches at all (the address is checked at connection). */
export const parsePaymentUrl = (value: string): URL => parseOutboundUrl(value, 'URL');

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
      if (allowed) return;
      if (isIP(hostname) !== 0 && !isPublicAddress(hostname)) throw refuse('the address is not public', url);
      if (isLocalName(hostname)) throw refuse('a local or internal name', url);
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
