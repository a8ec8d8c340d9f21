/** send: UI amounts in, exact base units through the SDK's parseUnits, refusals explained. */
import { WaiaasApiError, WaiaasNetworkError } from '../../sdk/index.ts';
import { SOL_ASSET } from '../units.ts';
import { failure, stringArg, type Tool, text } from './tool.ts';
import { limitsSummary, parseRequest, refusal, transferSchema, transferText } from './transfer-request.ts';

export const send: Tool = {
  name: 'send',
  title: 'Send SOL or a token',
  readOnly: false,
  description: (context) =>
    [
      'Send SOL or an SPL token from your wallet. `amount` is in UI units ("0.25" means 0.25 SOL), converted exactly to base units.',
      limitsSummary(context),
      "Larger amounts wait (delay tier) or need the owner's approval; anything over the per-transaction limit or what is left of today's budget is refused with the reason and what would pass.",
      'Call get_budget for what is left now, or dry_run_send to check first.',
    ].join(' '),
  inputSchema: transferSchema(true),
  async run(args, wallet) {
    let parsed: Awaited<ReturnType<typeof parseRequest>>;
    try {
      parsed = await parseRequest(args, wallet);
    } catch (error) {
      return refusal(error, wallet, { to: '', asset: SOL_ASSET, amount: 0n }, new Map());
    }
    const { request, decimals } = parsed;
    let idempotencyKey: string;
    try {
      idempotencyKey =
        stringArg(args, 'idempotency_key', { max: 128, pattern: /^[\x21-\x7e]+$/ }) ??
        globalThis.crypto.randomUUID();
    } catch (error) {
      return refusal(error, wallet, request, decimals);
    }
    try {
      const sent = await wallet.client.transfers.send(wallet.walletId, {
        to: request.to,
        amount: request.amount,
        ...(request.asset === SOL_ASSET ? {} : { mint: request.asset }),
        ...(request.memo === undefined ? {} : { memo: request.memo }),
        idempotencyKey,
      });
      return text(transferText(sent, decimals), `Idempotency key: ${sent.idempotencyKey}`);
    } catch (error) {
      if (
        error instanceof WaiaasNetworkError ||
        (error instanceof WaiaasApiError && error.retryable && error.status >= 500)
      ) {
        // The transfer may or may not have been made: only a retry under the same key is safe.
        return failure(
          `The daemon did not confirm the transfer (${error.message}). It may or may not have been made. Call send again with the same arguments and idempotency_key "${idempotencyKey}" to make it at most once, or check list_transfers.`,
        );
      }
      return refusal(error, wallet, request, decimals);
    }
  },
};
