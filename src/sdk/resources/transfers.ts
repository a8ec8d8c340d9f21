/** Transfers from a wallet (agent or owner) and their history. */
import { amountToWire } from '../amounts.ts';
import { amountsFromWire, dryRunFromWire } from '../codec.ts';
import { type CallOptions, type HttpTransport, path } from '../http.ts';
import { type ListOptions, Paginated } from '../paginate.ts';
import type { DryRunResult, LayerName, Page, Transfer, TransferOutcome, TransferRequest } from '../types.ts';
import { newIdempotencyKey } from './idempotency.ts';

export interface TransferListOptions extends ListOptions, CallOptions {}

export interface DryRunOptions extends CallOptions {
  /** The layers to ask (default all three); the server layer is always checked. */
  layers?: LayerName[];
}

const transferBody = (request: TransferRequest) => ({
  to: request.to,
  amount: amountToWire(request.amount),
  ...(request.mint === undefined ? {} : { mint: request.mint }),
  ...(request.memo === undefined ? {} : { memo: request.memo }),
});

export const transfersApi = (http: HttpTransport) => ({
  /**
   * Asks for a transfer. Instant and notify tiers answer `confirmed` with the signature; delay and
   * approval answer `delayed` / `pending_approval`; `received`, `signing` or `submitted` mean it is
   * still on its way (follow it with `get`). A refusal throws PolicyRefusedError (its `layer`
   * says which). The idempotency key (generated when not given) is reused by every retry, so a lost
   * answer never moves funds twice.
   */
  async send(walletId: string, request: TransferRequest, call?: CallOptions): Promise<TransferOutcome> {
    const idempotencyKey = request.idempotencyKey ?? newIdempotencyKey();
    const response = await http.request(
      {
        method: 'POST',
        path: path`/v1/wallets/${walletId}/transfers`,
        body: { ...transferBody(request), idempotencyKey },
        idempotencyKey,
      },
      call,
    );
    return { ...amountsFromWire<TransferOutcome>(response.body), idempotencyKey };
  },

  /**
   * What the transfer would meet now: the decision (tier, or the first refusal with its layer and
   * code), each layer's verdict, and the budget left per tier and window. Nothing is reserved, signed
   * or sent. `layers` limits which layers are asked (the server is always checked).
   */
  async dryRun(
    walletId: string,
    request: Omit<TransferRequest, 'idempotencyKey'>,
    options: DryRunOptions = {},
  ): Promise<DryRunResult> {
    const response = await http.request<Parameters<typeof dryRunFromWire>[0]>(
      {
        method: 'POST',
        path: path`/v1/wallets/${walletId}/transfers/dry-run`,
        query: { layers: options.layers?.join(',') },
        body: transferBody(request),
        repeatable: true,
      },
      options,
    );
    return dryRunFromWire(response.body);
  },

  async get(transferId: string, call?: CallOptions): Promise<Transfer> {
    const response = await http.request({ method: 'GET', path: path`/v1/transfers/${transferId}` }, call);
    return amountsFromWire(response.body);
  },

  /** The wallet's transfers, newest first, page by page. */
  list(walletId: string, options: TransferListOptions = {}): Paginated<Transfer> {
    return new Paginated(async (cursor) => {
      const response = await http.request<unknown>(
        {
          method: 'GET',
          path: path`/v1/wallets/${walletId}/transfers`,
          query: { cursor, limit: options.limit },
        },
        options,
      );
      return amountsFromWire<Page<Transfer>>(response.body);
    }, options.cursor);
  },
});

export type TransfersApi = ReturnType<typeof transfersApi>;
