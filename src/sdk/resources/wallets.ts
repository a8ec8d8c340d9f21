/** Wallets and the owner's acts on them (owner token; acts carry the owner's second factor). */
import { amountToWire } from '../amounts.ts';
import { amountsFromWire, type PolicyInput, policyToWire } from '../codec.ts';
import { type CallOptions, type HttpTransport, type IdempotentCallOptions, path } from '../http.ts';
import { Paginated } from '../paginate.ts';
import type {
  FreezeResult,
  Page,
  ResumeResult,
  RotateAgentKeyResult,
  Wallet,
  WithdrawRequest,
  WithdrawResult,
} from '../types.ts';
import { newIdempotencyKey } from './idempotency.ts';

export interface CreateWalletParams {
  name: string;
  policy: PolicyInput;
}

export interface ResumeParams {
  /** A new policy to resume with, instead of the one in force before the freeze. */
  policy?: PolicyInput;
}

/** An owner act's answer with the HTTP status: 202 means a part is still pending (repeat the call). */
export type Accepted<T> = T & { pending: boolean };

export const walletsApi = (http: HttpTransport) => ({
  /** A Squads v4 multisig with the agent's spending limits; an owner-key act. */
  async create(params: CreateWalletParams, call?: CallOptions): Promise<Wallet> {
    const response = await http.request(
      {
        method: 'POST',
        path: '/v1/wallets',
        body: { name: params.name, policy: policyToWire(params.policy) },
        ownerAct: true,
      },
      call,
    );
    return amountsFromWire(response.body);
  },

  /** The owner's wallets (the daemon answers them in one page; a later cursor is followed). */
  list(call: CallOptions = {}): Paginated<Wallet> {
    return new Paginated(async (cursor) => {
      const response = await http.request<unknown>(
        { method: 'GET', path: '/v1/wallets', query: { cursor } },
        call,
      );
      return amountsFromWire<Page<Wallet>>(response.body);
    });
  },

  async get(walletId: string, call?: CallOptions): Promise<Wallet> {
    const response = await http.request({ method: 'GET', path: path`/v1/wallets/${walletId}` }, call);
    return amountsFromWire(response.body);
  },

  /**
   * The kill switch: the server blocks the wallet at once, then the agent and its limits leave the
   * chain. Safe to repeat; `pending` says a part is still to do (call again).
   */
  async freeze(walletId: string, call?: CallOptions): Promise<Accepted<FreezeResult>> {
    const response = await http.request<FreezeResult>(
      { method: 'POST', path: path`/v1/wallets/${walletId}/freeze`, ownerAct: true, repeatable: true },
      call,
    );
    return { ...response.body, pending: response.status === 202 };
  },

  async resume(walletId: string, params: ResumeParams = {}, call?: CallOptions): Promise<ResumeResult> {
    const response = await http.request<ResumeResult>(
      {
        method: 'POST',
        path: path`/v1/wallets/${walletId}/resume`,
        body: params.policy === undefined ? {} : { policy: policyToWire(params.policy) },
        ownerAct: true,
        repeatable: true,
      },
      call,
    );
    return response.body;
  },

  async rotateAgentKey(walletId: string, call?: CallOptions): Promise<RotateAgentKeyResult> {
    const response = await http.request<RotateAgentKeyResult>(
      { method: 'POST', path: path`/v1/wallets/${walletId}/rotate-agent-key`, ownerAct: true },
      call,
    );
    return response.body;
  },

  /** Moves SOL or a token from the vault to the owner; the idempotency key makes a retry answer from the first. */
  async withdraw(
    walletId: string,
    params: WithdrawRequest,
    call?: IdempotentCallOptions,
  ): Promise<WithdrawResult> {
    const idempotencyKey = params.idempotencyKey ?? call?.idempotencyKey ?? newIdempotencyKey();
    const response = await http.request(
      {
        method: 'POST',
        path: path`/v1/wallets/${walletId}/withdraw`,
        body: {
          to: params.to,
          amount: params.amount === 'all' ? 'all' : amountToWire(params.amount),
          ...(params.mint === undefined ? {} : { mint: params.mint }),
          idempotencyKey,
        },
        idempotencyKey,
        ownerAct: true,
      },
      call,
    );
    return amountsFromWire(response.body);
  },
});

export type WalletsApi = ReturnType<typeof walletsApi>;
