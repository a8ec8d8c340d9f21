/** The owner's approval inbox: transfers waiting for the owner, and delayed ones the owner may cancel. */
import { amountsFromWire } from '../codec.ts';
import { type CallOptions, type HttpTransport, type IdempotentCallOptions, path } from '../http.ts';
import { type ListOptions, Paginated } from '../paginate.ts';
import type { Page, RejectedTransfer, Transfer } from '../types.ts';

export interface ApprovalListOptions extends ListOptions, CallOptions {}

const act = async <T>(
  http: HttpTransport,
  transferId: string,
  verb: 'approve' | 'reject' | 'cancel',
  call: IdempotentCallOptions | undefined,
): Promise<T> => {
  const response = await http.request(
    {
      method: 'POST',
      path: `${path`/v1/transfers/${transferId}`}/${verb}`,
      ...(call?.idempotencyKey === undefined ? {} : { idempotencyKey: call.idempotencyKey }),
      ownerAct: true,
    },
    call,
  );
  return amountsFromWire(response.body);
};

export const approvalsApi = (http: HttpTransport) => ({
  /** Transfers waiting for the owner's approval, page by page. */
  list(options: ApprovalListOptions = {}): Paginated<Transfer> {
    return new Paginated(async (cursor) => {
      const response = await http.request<unknown>(
        {
          method: 'GET',
          path: '/v1/approvals',
          query: { cursor, limit: options.limit },
        },
        options,
      );
      return amountsFromWire<Page<Transfer>>(response.body);
    }, options.cursor);
  },

  /** The owner approves and executes it on chain (an owner-key act); `confirmed`, or 202's states while on its way. */
  approve: (transferId: string, call?: IdempotentCallOptions) =>
    act<Transfer>(http, transferId, 'approve', call),

  /**
   * Rejects the transfer. With the owner's second factor the proposal is also voted down on chain
   * (`rejectionSignature`); without it, it can never execute through WAIaaS.
   */
  reject: (transferId: string, call?: IdempotentCallOptions) =>
    act<RejectedTransfer>(http, transferId, 'reject', call),

  /** Cancels a delayed transfer before it is due. */
  cancel: (transferId: string, call?: IdempotentCallOptions) =>
    act<Transfer>(http, transferId, 'cancel', call),
});

export type ApprovalsApi = ReturnType<typeof approvalsApi>;
