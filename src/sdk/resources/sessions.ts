/** Agent sessions: the owner issues a token bound to one wallet, and can revoke it at once. */
import { type CallOptions, type HttpTransport, path } from '../http.ts';
import type { CreatedSession, Page, SessionInfo } from '../types.ts';

export interface CreateSessionParams {
  /** How long the token lives, 60 s to 90 days. */
  ttlSeconds: number;
  label?: string;
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
});

export type SessionsApi = ReturnType<typeof sessionsApi>;
