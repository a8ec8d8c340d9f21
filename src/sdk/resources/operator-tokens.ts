/** The operator's own tokens: issue another (shown once), list them, revoke one. Operator token only. */
import { type CallOptions, type HttpTransport, path } from '../http.ts';
import type { CreatedOperatorToken, OperatorTokenInfo, Page } from '../types.ts';

export const operatorTokensApi = (http: HttpTransport) => ({
  async create(params: { label: string }, call?: CallOptions): Promise<CreatedOperatorToken> {
    const response = await http.request<CreatedOperatorToken>(
      { method: 'POST', path: '/v1/operator-tokens', body: params },
      call,
    );
    return response.body;
  },

  async list(call?: CallOptions): Promise<Page<OperatorTokenInfo>> {
    const response = await http.request<Page<OperatorTokenInfo>>(
      { method: 'GET', path: '/v1/operator-tokens' },
      call,
    );
    return response.body;
  },

  async revoke(id: string, call?: CallOptions): Promise<void> {
    await http.request({ method: 'DELETE', path: path`/v1/operator-tokens/${id}` }, call);
  },
});

export type OperatorTokensApi = ReturnType<typeof operatorTokensApi>;
