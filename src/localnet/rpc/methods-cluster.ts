import bs58 from 'bs58';
import { epochOf, SLOTS_PER_EPOCH } from '../chain/clock.ts';
import { decodeWireMessage, WireFormatError } from '../chain/wire-transaction.ts';
import {
  FEATURE_SET,
  type RpcContext,
  type RpcHandler,
  SOLANA_CORE_VERSION,
  withContext,
} from './context.ts';
import { invalidParams, RpcError } from './errors.ts';
import { config, unsignedInteger } from './params.ts';

const slotOf = (ctx: RpcContext): number => ctx.chain.tick().slot;

export const clusterMethods: Record<string, RpcHandler> = {
  getHealth: () => 'ok',
  getVersion: () => ({ 'solana-core': SOLANA_CORE_VERSION, 'feature-set': FEATURE_SET }),
  getSlot: (params, ctx) => {
    config(params[0]);
    return slotOf(ctx);
  },
  // No skipped slots on the localnet, so block height equals slot.
  getBlockHeight: (params, ctx) => {
    config(params[0]);
    return slotOf(ctx);
  },
  getMaxRetransmitSlot: (_params, ctx) => slotOf(ctx),
  getMaxShredInsertSlot: (_params, ctx) => slotOf(ctx),
  getFirstAvailableBlock: () => 0,
  minimumLedgerSlot: () => 0,
  getTransactionCount: (params, ctx) => {
    config(params[0]);
    return ctx.chain.transactionCount;
  },
  getEpochInfo: (params, ctx) => {
    config(params[0]);
    const slot = slotOf(ctx);
    return {
      absoluteSlot: slot,
      blockHeight: slot,
      epoch: epochOf(slot),
      slotIndex: slot % SLOTS_PER_EPOCH,
      slotsInEpoch: SLOTS_PER_EPOCH,
      transactionCount: ctx.chain.transactionCount,
    };
  },
  getEpochSchedule: () => ({
    firstNormalEpoch: 0,
    firstNormalSlot: 0,
    leaderScheduleSlotOffset: SLOTS_PER_EPOCH,
    slotsPerEpoch: SLOTS_PER_EPOCH,
    warmup: false,
  }),
  getGenesisHash: (_params, ctx) => ctx.chain.genesisHash,
  getIdentity: (_params, ctx) => ({ identity: ctx.identity }),
  getSlotLeader: (_params, ctx) => ctx.identity,
  getClusterNodes: (_params, ctx) => [
    {
      pubkey: ctx.identity,
      gossip: null,
      tpu: null,
      tpuQuic: null,
      rpc: ctx.rpcAddress(),
      pubsub: ctx.wsAddress(),
      version: SOLANA_CORE_VERSION,
      featureSet: FEATURE_SET,
      shredVersion: 0,
    },
  ],
  getBlockTime: (params, ctx) => {
    const slot = unsignedInteger(params[0], 'slot');
    if (slot > slotOf(ctx)) throw new RpcError(-32004, `Block not available for slot ${slot}`);
    return ctx.chain.clock.unixTimestampOf(slot);
  },
  getRecentPrioritizationFees: (_params, ctx) => [{ slot: slotOf(ctx), prioritizationFee: 0 }],
  getLatestBlockhash: (params, ctx) => {
    config(params[0]);
    const slot = slotOf(ctx);
    return withContext(slot, ctx.chain.latestBlockhash());
  },
  isBlockhashValid: (params, ctx) => {
    config(params[1]);
    let bytes: Uint8Array;
    try {
      bytes = bs58.decode(String(params[0]));
    } catch {
      throw invalidParams('Invalid param: Invalid');
    }
    const slot = slotOf(ctx);
    return withContext(slot, bytes.length === 32 && ctx.chain.blockhashes.isValid(bytes, slot));
  },
  getFeeForMessage: (params, ctx) => {
    config(params[1]);
    if (typeof params[0] !== 'string') throw invalidParams('Invalid params: expected a base64 message');
    let fee: bigint | null;
    try {
      fee = ctx.chain.feeForMessage(decodeWireMessage(Buffer.from(params[0], 'base64')));
    } catch (error) {
      if (error instanceof WireFormatError) throw invalidParams(`invalid message: ${error.message}`);
      throw error;
    }
    return withContext(slotOf(ctx), fee);
  },
  getMinimumBalanceForRentExemption: (params, ctx) =>
    ctx.chain.svm.minimumBalanceForRentExemption(BigInt(unsignedInteger(params[0], 'data length'))),
  /** Non-standard: moves the clock forward by `seconds` and answers the new unix time. */
  waiaas_advanceClock: (params, ctx) => {
    const seconds = unsignedInteger(params[0], 'seconds');
    return ctx.chain.advanceClock(seconds).unixTimestamp;
  },
  /** Non-standard: the chain's current slot and unix time. */
  waiaas_getClock: (_params, ctx) => ctx.chain.tick(),
};
