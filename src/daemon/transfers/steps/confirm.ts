/**
 * Step 9: where the signature ended up. Confirmed or failed as the cluster reports it; expired only
 * once the block height passed the transaction's last valid height and one more lookup still finds
 * nothing (the chain client does that last lookup). The logs of a failure are fetched here, only then.
 */
import { PublicKey } from '@solana/web3.js';
import type { WaiaasError } from '../../../core/errors.ts';
import { chainRejection } from '../../../squads/index.ts';
import type { PipelineContext } from '../context.ts';

export type ChainOutcome =
  | { readonly kind: 'confirmed' }
  | { readonly kind: 'failed'; readonly error: WaiaasError }
  | { readonly kind: 'expired' }
  /** No answer in time, or the RPC is down: the signature is looked up again later. */
  | { readonly kind: 'unknown' };

interface TransactionDetails {
  meta?: { logMessages?: string[] | null } | null;
  transaction?: { message?: { accountKeys?: string[] } };
}

async function failureDetails(
  ctx: PipelineContext,
  signature: string,
): Promise<{ logs: string[] | null; accountKeys: PublicKey[] | undefined }> {
  try {
    const found = await ctx.chain.rpc.call<TransactionDetails | null>('getTransaction', [
      signature,
      { encoding: 'json', commitment: 'confirmed', maxSupportedTransactionVersion: 0 },
    ]);
    return {
      logs: found?.meta?.logMessages ?? null,
      accountKeys: found?.transaction?.message?.accountKeys?.map((key) => new PublicKey(key)),
    };
  } catch {
    return { logs: null, accountKeys: undefined };
  }
}

export async function confirmLanding(
  ctx: PipelineContext,
  signature: string,
  lastValidBlockHeight: bigint,
  vault: PublicKey,
): Promise<ChainOutcome> {
  let outcome: Awaited<ReturnType<PipelineContext['chain']['confirm']>>;
  try {
    outcome = await ctx.chain.confirm(signature, lastValidBlockHeight);
  } catch (error) {
    ctx.logger.warn({ err: error, signature }, 'confirmation lookup failed; the transfer is looked up later');
    return { kind: 'unknown' };
  }
  switch (outcome.status) {
    case 'confirmed':
      return { kind: 'confirmed' };
    case 'expired':
      return { kind: 'expired' };
    case 'unknown':
      return { kind: 'unknown' };
    case 'failed': {
      const { logs, accountKeys } = await failureDetails(ctx, signature);
      return {
        kind: 'failed',
        error: chainRejection(outcome.err, logs, { vault, ...(accountKeys && { accountKeys }) }),
      };
    }
  }
}
