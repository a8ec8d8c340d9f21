/**
 * Where a webhook may point, and where a delivery may connect (SSRF).
 *
 * A webhook URL is an absolute http(s) URL without credentials or fragment, whose host is a public
 * unicast address or a name that resolves only to such addresses. Refused, in every spelling the URL
 * parser or a resolver accepts (decimal `2130706433`, hex `0x7f000001`, octal `0177.0.0.1`, short
 * `127.1`, bracketed IPv6, trailing-dot names, names resolving there): loopback, private, link-local,
 * carrier-grade NAT, cloud metadata, unspecified, multicast, broadcast, reserved and documentation
 * ranges, unique-local IPv6, and every IPv6 form that embeds an IPv4 address (mapped, compatible,
 * NAT64, 6to4, Teredo), since those reach the embedded address through a translator. Names under
 * `localhost`, `.local`, `.internal` (cloud metadata such as metadata.google.internal) and `.home.arpa`
 * are refused before any lookup.
 *
 * The check runs when a webhook is registered and again before each delivery, which connects to the
 * very address it checked (the name is resolved once; see deliver.ts), so a name that changes its
 * answer between check and connect (DNS rebinding) gains nothing. Redirects are never followed.
 *
 * The operator may allow hosts (`webhook_allow_hosts`): a name matches the URL's host exactly; an IP
 * or CIDR matches the address the host resolves to. Self-hosted receivers on a private network, and
 * the tests' receivers on 127.0.0.1, are allowed that way.
 */
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { WaiaasError } from '../../core/errors.ts';
import { forbiddenRange, isLocalName, normaliseHost, parseOutboundUrl } from '../net/outbound.ts';

export { forbiddenRange, normaliseHost };

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Every address a name resolves to; the system resolver unless a test supplies its own. */
export type ResolveHost = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: ResolveHost = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => ({
    address: entry.address,
    family: entry.family === 6 ? 6 : 4,
  }));

/** What the operator lets webhooks reach although the rules above would refuse it. */
export interface WebhookAllowList {
  readonly names: ReadonlySet<string>;
  readonly ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export const emptyAllowList: WebhookAllowList = { names: new Set(), ranges: [] };

const parseRange = (entry: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined => {
  if (entry.includes('/')) {
    try {
      return ipaddr.parseCIDR(entry);
    } catch {
      return undefined;
    }
  }
  if (!ipaddr.isValid(entry)) return undefined;
  const address = ipaddr.parse(entry);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
};

/** Entries are host names, IP addresses or CIDR ranges (config `webhook_allow_hosts`). */
export function webhookAllowList(entries: readonly string[]): WebhookAllowList {
  const names = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const raw of entries) {
    const entry = normaliseHost(raw);
    if (entry === '') continue;
    const range = parseRange(entry);
    if (range) ranges.push(range);
    else names.add(entry);
  }
  return { names, ranges };
}

/** IPv4 written inside IPv6 (`::ffff:a.b.c.d`) is the IPv4 address for matching. */
const canonical = (address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 =>
  address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;

const inAllowedRange = (address: ipaddr.IPv4 | ipaddr.IPv6, allow: WebhookAllowList): boolean => {
  const forms = [address, canonical(address)];
  return allow.ranges.some(([range, bits]) =>
    forms.some((form) => form.kind() === range.kind() && form.match(range, bits)),
  );
};

export const webhookUrlForbidden = (reason: string, details: Record<string, unknown> = {}) =>
  new WaiaasError('WEBHOOK_URL_FORBIDDEN', {
    message: `The webhook URL points where webhooks may not go: ${reason}.`,
    details: { field: 'url', ...details },
  });

/** The address a delivery connects to, checked. */
export interface CheckedDestination {
  /** The URL's host as the request names it (Host header, TLS SNI). */
  readonly hostname: string;
  readonly address: string;
  readonly family: 4 | 6;
}

export interface DestinationRules {
  readonly allow: WebhookAllowList;
  readonly resolve: ResolveHost;
}

/**
 * Resolves the URL's host once and checks every address it resolves to; throws WEBHOOK_URL_FORBIDDEN
 * when any is refused (a name with one private answer among public ones is refused as a whole), or
 * when the name does not resolve at all. The first address is the one to connect to.
 */
export async function checkWebhookDestination(
  url: URL,
  rules: DestinationRules,
): Promise<CheckedDestination> {
  const hostname = normaliseHost(url.hostname);
  const nameAllowed = rules.allow.names.has(hostname);
  let addresses: readonly ResolvedAddress[];
  if (ipaddr.isValid(hostname)) {
    const parsed = ipaddr.parse(hostname);
    addresses = [{ address: parsed.toString(), family: parsed.kind() === 'ipv4' ? 4 : 6 }];
  } else {
    if (!nameAllowed && isLocalName(hostname)) {
      throw webhookUrlForbidden(`${hostname} is a local or internal name`, { host: hostname });
    }
    try {
      addresses = await rules.resolve(hostname);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      throw webhookUrlForbidden(`${hostname} does not resolve`, {
        host: hostname,
        ...(typeof code === 'string' ? { reason: code } : {}),
      });
    }
    if (addresses.length === 0) throw webhookUrlForbidden(`${hostname} does not resolve`, { host: hostname });
  }
  for (const { address } of addresses) {
    if (nameAllowed) break;
    const parsed = ipaddr.parse(address);
    if (inAllowedRange(parsed, rules.allow)) continue;
    const range = forbiddenRange(parsed);
    if (range !== undefined) {
      throw webhookUrlForbidden(`${address} is a ${range} address`, { host: hostname, address, range });
    }
  }
  const first = addresses[0]!;
  return { hostname, address: first.address, family: first.family };
}

/**
 * The check at registration: as checkWebhookDestination, except that a host the operator allowed by
 * name is not looked up (it may live in a DNS only the receivers' network answers); every delivery
 * still resolves it and connects to what it resolved.
 */
export async function assertWebhookDestination(url: URL, rules: DestinationRules): Promise<void> {
  if (rules.allow.names.has(normaliseHost(url.hostname))) return;
  await checkWebhookDestination(url, rules);
}

/**
 * The URL's form: an absolute http(s) URL without credentials or fragment. Where it points is
 * checked by checkWebhookDestination.
 */
export const parseWebhookUrl = (value: string): URL => parseOutboundUrl(value, 'webhook URL');

/** The URL without its query, for audit entries (a query string may carry a receiver's key). */
export const describeWebhookUrl = (url: URL): string => `${url.origin}${url.pathname}`;
