/**
 * The rules for every request the daemon sends where a user told it to (webhook deliveries, x402
 * resources): a server-side request forgery guard. Shared so both refuse the same addresses in every
 * spelling: an absolute http(s) URL without credentials or fragment, to public unicast addresses only
 * (ipaddr.js's `unicast`, minus IPv6 forms that embed an IPv4 address), and never to names that are
 * local or internal by definition. Each caller resolves a name once and connects to the address it
 * checked, so a name that rebinds between check and connect gains nothing.
 */
import ipaddr from 'ipaddr.js';
import { WaiaasError } from '../../core/errors.ts';

const MAX_URL_LENGTH = 2048;

/** `localhost.` and `LocalHost` are `localhost`; `[::1]` is `::1`. */
export const normaliseHost = (host: string): string =>
  host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.+$/, '');

/**
 * The URL's form, or VALIDATION_FAILED naming `what` ("webhook URL", "URL"): where it points is
 * checked by the caller's destination check.
 */
export function parseOutboundUrl(value: string, what: string): URL {
  const refuse = (reason: string) =>
    new WaiaasError('VALIDATION_FAILED', {
      message: `Invalid ${what}: ${reason}.`,
      details: { field: 'url' },
    });
  if (value.length > MAX_URL_LENGTH) throw refuse(`longer than ${MAX_URL_LENGTH} characters`);
  if (!URL.canParse(value)) throw refuse('not an absolute URL');
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('only http and https are allowed');
  if (url.username !== '' || url.password !== '') throw refuse('credentials in the URL are not allowed');
  if (url.hash !== '') throw refuse('a fragment is not allowed');
  if (url.hostname === '') throw refuse('no host');
  return url;
}

/**
 * Why an address must not be reached, or undefined when it is a public unicast address. Only
 * ipaddr.js's `unicast` is allowed; ::/96 (IPv4-compatible, deprecated) is unicast to it but embeds
 * an IPv4 address, so it is refused too.
 */
export function forbiddenRange(address: ipaddr.IPv4 | ipaddr.IPv6): string | undefined {
  const range = address.range();
  if (range !== 'unicast') return range;
  if (address.kind() === 'ipv6') {
    const parts = (address as ipaddr.IPv6).parts;
    if (parts.slice(0, 6).every((part) => part === 0)) return 'ipv4Compatible';
  }
  return undefined;
}

/** Whether `address` (IPv4 or IPv6 text) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return forbiddenRange(ipaddr.parse(address)) === undefined;
}

const LOCAL_NAME = /(^|\.)(localhost|local|internal|home\.arpa)$/;

/** Names under localhost, .local, .internal (cloud metadata) and .home.arpa: refused before any lookup. */
export const isLocalName = (hostname: string): boolean => LOCAL_NAME.test(normaliseHost(hostname));
