import { WaiaasError } from '../../core/errors.ts';

/**
 * Where a webhook may point: an absolute http(s) URL without credentials or fragment.
 *
 * Not enforced here (SSRF): the URL may name a loopback or private address, since self-hosted
 * receivers often live there. A multi-tenant deployment should add an allowlist of hosts, or resolve
 * the name and refuse private, loopback and link-local addresses at delivery time (after DNS, to defeat
 * rebinding). Redirects are never followed, so a receiver cannot bounce a delivery elsewhere.
 */
export function parseWebhookUrl(value: string): URL {
  const refuse = (reason: string) =>
    new WaiaasError('VALIDATION_FAILED', {
      message: `Invalid webhook URL: ${reason}.`,
      details: { field: 'url' },
    });
  if (value.length > 2048) throw refuse('longer than 2048 characters');
  if (!URL.canParse(value)) throw refuse('not an absolute URL');
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('only http and https are allowed');
  if (url.username !== '' || url.password !== '') throw refuse('credentials in the URL are not allowed');
  if (url.hash !== '') throw refuse('a fragment is not allowed');
  if (url.hostname === '') throw refuse('no host');
  return url;
}

/** The URL without its query, for audit entries (a query string may carry a receiver's key). */
export const describeWebhookUrl = (url: URL): string => `${url.origin}${url.pathname}`;
