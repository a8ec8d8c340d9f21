/**
 * The agent float (DESIGN.md §11): the Agent Key's associated token account of a mint, filled only
 * from the vault through the spending limit. A fill is an ordinary spendingLimitUse to the agent's own
 * key, run through the transfer pipeline (kind `float_fill`), so it is counted against the daily
 * budget at all three layers and capped by `float.max` at the server and in the enclave.
 */
import type { PublicKey } from '@solana/web3.js';
import { isWaiaasError, WaiaasError } from '../../core/errors.ts';
import type { ChainClient } from '../../solana/chain-client.ts';
import { associatedTokenAddress, type TokenAsset } from '../../squads/index.ts';
import type { TransferRecord } from '../../store/transfers.ts';
import type { PipelineContext } from '../transfers/context.ts';
import { executeSpend } from '../transfers/execute-spend.ts';
import { errorOfRecord } from '../transfers/stored-error.ts';
import { track } from '../transfers/track.ts';
import { reserveSpend } from './reserve.ts';

/** The balance of a token account, 0 when it does not exist (yet). */
export async function tokenAccountBalance(chain: ChainClient, account: PublicKey): Promise<bigint> {
  try {
    const info = await chain.connection.getAccountInfo(account, 'confirmed');
    if (info === null || info.data.length < 72) return 0n;
    return Buffer.from(info.data).readBigUInt64LE(64);
  } catch (error) {
    throw new WaiaasError('CHAIN_UNAVAILABLE', {
      message: 'Reading the float’s balance failed',
      details: { account: account.toBase58() },
      cause: error,
    });
  }
}

export const floatAccountOf = (agent: PublicKey, token: TokenAsset): PublicKey =>
  associatedTokenAddress(agent, token);

export interface FillRequest {
  readonly walletId: string;
  readonly agent: PublicKey;
  readonly token: TokenAsset;
  /** What the float holds now. */
  readonly balance: bigint;
  /** Up to the cap: fewer fills, fewer fees. */
  readonly wanted: bigint;
  /** At least what the payment lacks. */
  readonly needed: bigint;
}

const retryWithLess = (error: unknown) =>
  isWaiaasError(error) && (error.code === 'POLICY_DAILY_LIMIT' || error.code === 'POLICY_FLOAT_MAX');

/** Fills the float, topping it up to the cap when the budget allows, else with just what is needed. */
export async function fillFloat(ctx: PipelineContext, request: FillRequest): Promise<TransferRecord> {
  const reserveFor = (amount: bigint) =>
    reserveSpend(ctx, {
      walletId: request.walletId,
      purpose: 'float-fill',
      asset: request.token.mint.toBase58(),
      amount,
      recipient: request.agent.toBase58(),
      floatBalance: request.balance,
    });
  let reservation: Awaited<ReturnType<typeof reserveFor>>;
  try {
    reservation = await reserveFor(request.wanted);
  } catch (error) {
    if (!(request.wanted > request.needed && retryWithLess(error))) throw error;
    reservation = await reserveFor(request.needed);
  }
  const { record, wallet } = reservation;
  const done = await track(ctx, record.id, () => executeSpend(ctx, record, wallet, 'withdraw'));
  if (done.status !== 'confirmed') {
    throw (
      errorOfRecord(done) ??
      new WaiaasError('CONFLICT', {
        message: `The float fill is ${done.status}`,
        details: { transferId: done.id, status: done.status },
      })
    );
  }
  return done;
}
