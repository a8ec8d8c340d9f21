/**
 * Agent sessions: the owner issues a token bound to one wallet, lists and revokes them; an agent asks
 * who its token is (`current`), so it needs nothing but the daemon's URL and the token.
 */
import { amountsFromWire } from '../codec.ts';
import { type CallOptions, type HttpTransport, path } from '../http.ts';
import type { CreatedSession, CurrentSession, Page, SessionInfo } from '../types.ts';

export interface CreateSessionParams {
  /** How long the token lives, 60 s to 90 days. */
  ttlSeconds: number;
  label?: string | undefined;
}

export const sessionsApi = (http: HttpTransport) => ({
  async create(walletId: string, params: CreateSessionParams, call?: CallOptions): Promise<CreatedSession> {
    const response = await http.request<CreatedSession>(
      { method: 'POST', path: path`/v1/wallets/${walletId}/sessions`, body: params },
      call,
    );
    return response.body;
  },

  /** The wallet's sessions, newest first, revoked and expired ones included (never their tokens). */
  async list(walletId: string, call?: CallOptions): Promise<SessionInfo[]> {
    const response = await http.request<Page<SessionInfo>>(
      { method: 'GET', path: path`/v1/wallets/${walletId}/sessions` },
      call,
    );
    return response.body.items;
  },

  async revoke(sessionId: string, call?: CallOptions): Promise<void> {
    await http.request({ method: 'DELETE', path: path`/v1/sessions/${sessionId}` }, call);
  },

  /** Who this agent token is: its session, its wallet (`walletId`) and the policy it acts under. */
  async current(call?: CallOptions): Promise<CurrentSession> {
    const response = await http.request<unknown>({ method: 'GET', path: '/v1/session' }, call);
    const info = amountsFromWire<Omit<CurrentSession, 'walletId'>>(response.body);
    return { ...info, walletId: info.wallet.id };
  },
});

export type SessionsApi = ReturnType<typeof sessionsApi>;
