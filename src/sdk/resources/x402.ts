/** x402 payments (agent or owner) and the owner's sweep of the agent float back to the vault. */
import { amountToWire } from '../amounts.ts';
import { amountsFromWire } from '../codec.ts';
import { type CallOptions, type HttpTransport, path } from '../http.ts';
import type { FloatSweepResult, X402PayRequest, X402PayResult } from '../types.ts';

export const x402Api = (http: HttpTransport) => ({
  /**
   * Requests `url`; when it answers 402 Payment Required, pays the offer the wallet's policy allows
   * (at most `maxAmount` base units of the asset asked) and requests it again with the payment.
   * `paid: false` when the resource asked for nothing. A policy refusal throws PolicyRefusedError
   * (its `layer` says which). Never retried by the SDK: a second call may pay again.
   */
  async pay(walletId: string, request: X402PayRequest, call?: CallOptions): Promise<X402PayResult> {
    const response = await http.request(
      {
        method: 'POST',
        path: path`/v1/wallets/${walletId}/x402/pay`,
        body: {
          url: request.url,
          ...(request.method === undefined ? {} : { method: request.method }),
          ...(request.headers === undefined ? {} : { headers: request.headers }),
          ...(request.body === undefined ? {} : { body: request.body }),
          maxAmount: amountToWire(request.maxAmount),
        },
      },
      call,
    );
    return amountsFromWire(response.body);
  },

  /** Owner: every token in the agent float goes back to the vault (frozen or not). */
  async sweepFloat(walletId: string, call?: CallOptions): Promise<FloatSweepResult> {
    const response = await http.request(
      { method: 'POST', path: path`/v1/wallets/${walletId}/float/sweep`, repeatable: true },
      call,
    );
    return amountsFromWire(response.body);
  },
});

export type X402Api = ReturnType<typeof x402Api>;
