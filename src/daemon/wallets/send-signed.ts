import type { Keypair, VersionedTransaction } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import { signWeb3Transaction } from '../../keys/index.ts';
import type { OwnerSigner } from '../../keys/types.ts';
import { type ChainClient, RpcError } from '../../solana/chain-client.ts';
import { chainErrorFrom, chainRejection } from '../../squads/index.ts';

/**
 * Signs with the given keys (and the owner, through its signer, when it must sign), sends with
 * preflight so a refusal comes back with its logs, and waits for confirmation.
 */
export async function signSendConfirm(
  chain: ChainClient,
  transaction: VersionedTransaction,
  lastValidBlockHeight: bigint,
  keys: readonly Keypair[],
  owner?: OwnerSigner,
): Promise<string> {
  transaction.sign([...keys]);
  if (owner) await signWeb3Transaction(owner, transaction);
  let signature: string;
  try {
    signature = await chain.send(transaction.serialize());
  } catch (error) {
    throw rpcFailure(error);
  }
  const outcome = await chain.confirm(signature, lastValidBlockHeight);
  if (outcome.status === 'confirmed') return signature;
  if (outcome.status === 'failed') throw chainRejection(outcome.err);
  throw new WaiaasError('CHAIN_UNAVAILABLE', {
    message:
      outcome.status === 'expired'
        ? 'The transaction expired before it landed'
        : 'The transaction was not confirmed in time',
    details: { signature },
  });
}

/** A JSON-RPC refusal carries the transaction error and its logs in `data`; keep both for the caller. */
export function rpcFailure(error: unknown): WaiaasError {
  if (error instanceof RpcError) {
    const data = (error.data ?? {}) as { err?: unknown; logs?: string[] | null };
    if (data.err !== undefined && data.err !== null) return chainRejection(data.err, data.logs ?? null);
    return new WaiaasError('CHAIN_REJECTED', {
      layer: 'chain',
      details: { reason: error.message.slice(0, 300), rpcCode: error.code },
    });
  }
  return chainErrorFrom(error);
}
