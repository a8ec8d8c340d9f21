/**
 * Step 8: the stored bytes go to the cluster. The agent's spendingLimitUse is sent without preflight:
 * L1 and L2 already checked it, and a failure still lands with its status (its logs are fetched
 * then, and only then). A transport failure leaves it uncertain: the confirmation step finds out.
 */
import { WaiaasError } from '../../../core/errors.ts';
import { RpcError } from '../../../solana/chain-client.ts';
import { chainRejection } from '../../../squads/index.ts';
import type { PipelineContext } from '../context.ts';

export type SendResult =
  | { readonly kind: 'sent' }
  /** The cluster refused it before processing: it did not land and never will. */
  | { readonly kind: 'rejected'; readonly error: WaiaasError }
  | { readonly kind: 'uncertain'; readonly error: unknown };

export async function submit(
  ctx: PipelineContext,
  wire: Uint8Array,
  options: { skipPreflight: boolean },
): Promise<SendResult> {
  try {
    await ctx.chain.send(wire, { skipPreflight: options.skipPreflight });
    return { kind: 'sent' };
  } catch (error) {
    if (error instanceof RpcError) {
      const data = (error.data ?? {}) as { err?: unknown; logs?: string[] | null };
      // A resend of bytes that already landed; the lookup that follows finds them.
      if (data.err === 'AlreadyProcessed' || /already (been )?processed/i.test(error.message)) {
        return { kind: 'sent' };
      }
      // Not proof that these bytes never landed earlier: only the lookup can tell.
      if (data.err === 'BlockhashNotFound') return { kind: 'uncertain', error };
      if (data.err !== undefined && data.err !== null) {
        return { kind: 'rejected', error: chainRejection(data.err, data.logs ?? null) };
      }
      return {
        kind: 'rejected',
        error: new WaiaasError('CHAIN_REJECTED', {
          layer: 'chain',
          details: { reason: error.message.slice(0, 300), rpcCode: error.code },
        }),
      };
    }
    return { kind: 'uncertain', error };
  }
}
