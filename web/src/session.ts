/**
 * The signed-in owner: an SDK client holding the owner token in memory only. Nothing is written to
 * localStorage, sessionStorage or a cookie: a reload signs out, and no script of another page can read
 * the token back. The second factor is never held here at all (see unlock.tsx).
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { createClient, WaiaasApiError, type WaiaasClient } from '../../src/sdk/index.ts';

export interface OwnerSession {
  readonly client: WaiaasClient;
  /** localnet, devnet or mainnet-beta: where signatures link to. */
  readonly network: string;
}

export class SignInError extends Error {}

/** Checks the token against the API itself: only an owner token may list wallets. */
export async function signIn(token: string, origin = window.location.origin): Promise<OwnerSession> {
  const trimmed = token.trim();
  if (trimmed === '') throw new SignInError('Enter your owner token.');
  const client = createClient({ url: origin, token: trimmed });
  try {
    await client.wallets.list().firstPage();
  } catch (error) {
    if (error instanceof WaiaasApiError && error.code === 'FORBIDDEN')
      throw new SignInError('This token is not an owner token (it belongs to an agent or the operator).');
    if (error instanceof WaiaasApiError && error.status === 401)
      throw new SignInError('The daemon does not know this token.');
    throw error;
  }
  const health = await client.health();
  return { client, network: health.network };
}

export const SessionContext = createContext<OwnerSession | null>(null);

/** The signed-in owner's client and network; only pages under the sign-in use it. */
export function useSession(): OwnerSession {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession outside the signed-in console');
  return session;
}
