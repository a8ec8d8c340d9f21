/** The wallet's policy: agents read it, the owner replaces it (an owner-key act). */
import { amountsFromWire, type PolicyInput, policyToWire } from '../codec.ts';
import { type CallOptions, type HttpTransport, path } from '../http.ts';
import type { PolicyChangeResult, WalletPolicy } from '../types.ts';

export const policyApi = (http: HttpTransport) => ({
  async get(walletId: string, call?: CallOptions): Promise<WalletPolicy> {
    const response = await http.request({ method: 'GET', path: path`/v1/wallets/${walletId}/policy` }, call);
    return amountsFromWire(response.body);
  },

  /**
   * Puts a new policy in force (its version must be above the one in force). `pending` says the
   * on-chain part is still to do: repeat the same call.
   */
  async set(
    walletId: string,
    policy: PolicyInput,
    call?: CallOptions,
  ): Promise<PolicyChangeResult & { pending: boolean }> {
    const response = await http.request(
      {
        method: 'PUT',
        path: path`/v1/wallets/${walletId}/policy`,
        body: { policy: policyToWire(policy) },
        ownerAct: true,
      },
      call,
    );
    return { ...amountsFromWire<PolicyChangeResult>(response.body), pending: response.status === 202 };
  },
});

export type PolicyApi = ReturnType<typeof policyApi>;
