/**
 * Hash routes (#/wallets/abc): the daemon serves one page at /console and never needs to know the
 * console's own paths, and a reload stays where it was.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'wallets' }
  | { page: 'wallet'; walletId: string }
  | { page: 'policy'; walletId: string }
  | { page: 'sessions'; walletId: string }
  | { page: 'transfer'; transferId: string }
  | { page: 'approvals' }
  | { page: 'webhooks' }
  | { page: 'audit' }
  | { page: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').split('?')[0] || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, id, sub] = parts;
  if (parts.length === 0 || (first === 'wallets' && parts.length === 1)) return { page: 'wallets' };
  if (first === 'wallets' && id && parts.length === 2) return { page: 'wallet', walletId: id };
  if (first === 'wallets' && id && sub === 'policy' && parts.length === 3)
    return { page: 'policy', walletId: id };
  if (first === 'wallets' && id && sub === 'sessions' && parts.length === 3)
    return { page: 'sessions', walletId: id };
  if (first === 'transfers' && id && parts.length === 2) return { page: 'transfer', transferId: id };
  if (first === 'approvals' && parts.length === 1) return { page: 'approvals' };
  if (first === 'webhooks' && parts.length === 1) return { page: 'webhooks' };
  if (first === 'audit' && parts.length === 1) return { page: 'audit' };
  return { page: 'not-found', path };
}

export const href = {
  wallets: () => '#/wallets',
  wallet: (id: string) => `#/wallets/${encodeURIComponent(id)}`,
  policy: (id: string) => `#/wallets/${encodeURIComponent(id)}/policy`,
  sessions: (id: string) => `#/wallets/${encodeURIComponent(id)}/sessions`,
  transfer: (id: string) => `#/transfers/${encodeURIComponent(id)}`,
  approvals: () => '#/approvals',
  webhooks: () => '#/webhooks',
  audit: () => '#/audit',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
