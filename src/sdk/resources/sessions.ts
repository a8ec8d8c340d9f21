/**
 * Agent sessions: the owner issues a token bound to one wallet, lists and revokes them; an agent asks
 * who its token is (`current`), so it needs nothing but the daemon's URL and the token.
 */
import { amountsFromWire } from '../codec.ts';
import { type CallOptions, type HttpTransport, path } from '../http.ts';
import { Paginated } from '../paginate.ts';
import type { CreatedSession, Page, Session, SessionInfo } from '../types.ts';

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

  async revoke(sessionId: string, call?: CallOptions): Promise<void> {
    await http.request({ method: 'DELETE', path: path`/v1/sessions/${sessionId}` }, call);
  },

  /** The wallet's sessions, newest first, with their status (owner token; never the tokens). */
  list(walletId: string, call: CallOptions = {}): Paginated<Session> {
    return new Paginated(async (cursor) => {
      const response = await http.request<Page<Session>>(
        { method: 'GET', path: path`/v1/wallets/${walletId}/sessions`, query: { cursor } },
        call,
      );
      return response.body;
    });
  },

  /** Who this agent token is: its session, its wallet (`walletId`) and the policy it acts under. */
  async current(call?: CallOptions): Promise<SessionInfo> {
    const response = await http.request<unknown>({ method: 'GET', path: '/v1/session' }, call);
    const info = amountsFromWire<Omit<SessionInfo, 'walletId'>>(response.body);
    return { ...info, walletId: info.wallet.id };
  },
});

export type SessionsApi = ReturnType<typeof sessionsApi>;
