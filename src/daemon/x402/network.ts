/**
 * The wallet's network as x402 names networks (CAIP-2): `solana:` and the first 32 characters of the
 * cluster's genesis hash (mainnet-beta is solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp). Read from the
 * cluster the daemon talks to, once: a payment asked on another network is refused, whatever the
 * resource claims.
 */
import { WaiaasError } from '../../core/errors.ts';
import type { ChainClient } from '../../solana/chain-client.ts';

const networks = new WeakMap<ChainClient, Promise<string>>();

export const caip2Of = (genesisHash: string): string => `solana:${genesisHash.slice(0, 32)}`;

export function walletNetwork(chain: ChainClient): Promise<string> {
  let network = networks.get(chain);
  if (network === undefined) {
    network = chain.rpc.call<string>('getGenesisHash', []).then(caip2Of);
    networks.set(chain, network);
    network.catch(() => networks.delete(chain));
  }
  return network.catch((error: unknown) => {
    throw new WaiaasError('CHAIN_UNAVAILABLE', {
      message: 'Reading the cluster’s genesis hash failed',
      details: { reason: error instanceof Error ? error.message.slice(0, 200) : String(error) },
      cause: error,
    });
  });
}
