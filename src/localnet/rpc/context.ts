import type { LocalChain } from '../chain/local-chain.ts';
import type { Params } from './params.ts';

export const SOLANA_CORE_VERSION = '2.3.0';
export const FEATURE_SET = 3294202862;

export interface RpcContext {
  chain: LocalChain;
  identity: string;
  rpcAddress: () => string;
  wsAddress: () => string;
}

export type RpcHandler = (params: Params, ctx: RpcContext) => unknown;

export const withContext = <T>(
  slot: number,
  value: T,
): { context: { apiVersion: string; slot: number }; value: T } => ({
  context: { apiVersion: SOLANA_CORE_VERSION, slot },
  value,
});
