/** The wallet as the chain holds it, and pure decoders from raw account data to it. */
import type { AccountInfo, PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { WaiaasError } from '../core/errors.ts';
import type { LimitAsset } from './assets.ts';
import { type Period, SOL_LIMIT_MINT, SQUADS_PROGRAM_ID } from './program.ts';

const { Permission, Permissions } = multisig.types;

export interface MemberState {
  readonly key: PublicKey;
  readonly mask: number;
  readonly initiate: boolean;
  readonly vote: boolean;
  readonly execute: boolean;
}

export interface MultisigState {
  readonly address: PublicKey;
  readonly createKey: PublicKey;
  readonly configAuthority: PublicKey;
  readonly threshold: number;
  readonly timeLock: number;
  /** Index of the last vault or config transaction; the next proposal takes this + 1. */
  readonly transactionIndex: bigint;
  /** Proposals at or below this index were invalidated by a config change and can never execute. */
  readonly staleTransactionIndex: bigint;
  readonly rentCollector: PublicKey | null;
  readonly members: readonly MemberState[];
}

export interface SpendingLimitState {
  readonly address: PublicKey;
  readonly createKey: PublicKey;
  readonly asset: LimitAsset;
  readonly vaultIndex: number;
  readonly amount: bigint;
  readonly period: Period;
  /** What is left in the current period, as of the last use (a use after the period ends resets it first). */
  readonly remainingAmount: bigint;
  /** Unix seconds the current period started; it advances by whole periods, see DESIGN §8. */
  readonly lastReset: bigint;
  readonly members: readonly PublicKey[];
  /** Empty means any destination. */
  readonly destinations: readonly PublicKey[];
}

const toBigInt = (value: { toString(): string } | number): bigint => BigInt(value.toString());

const wrongAccount = (address: PublicKey, kind: string) =>
  new WaiaasError('CHAIN_REJECTED', {
    message: `The account at ${address.toBase58()} is not a Squads ${kind}`,
    layer: 'chain',
    details: { address: address.toBase58(), expected: kind },
  });

function assertSquadsAccount(
  address: PublicKey,
  info: AccountInfo<Buffer>,
  discriminator: number[],
  kind: string,
) {
  if (!info.owner.equals(SQUADS_PROGRAM_ID) || !Buffer.from(discriminator).equals(info.data.subarray(0, 8))) {
    throw wrongAccount(address, kind);
  }
}

export function decodeMultisig(address: PublicKey, info: AccountInfo<Buffer>): MultisigState {
  assertSquadsAccount(address, info, multisig.generated.multisigDiscriminator, 'multisig');
  const [account] = multisig.accounts.Multisig.fromAccountInfo(info);
  return {
    address,
    createKey: account.createKey,
    configAuthority: account.configAuthority,
    threshold: account.threshold,
    timeLock: account.timeLock,
    transactionIndex: toBigInt(account.transactionIndex),
    staleTransactionIndex: toBigInt(account.staleTransactionIndex),
    rentCollector: account.rentCollector ?? null,
    members: account.members.map((member) => ({
      key: member.key,
      mask: member.permissions.mask,
      initiate: Permissions.has(member.permissions, Permission.Initiate),
      vote: Permissions.has(member.permissions, Permission.Vote),
      execute: Permissions.has(member.permissions, Permission.Execute),
    })),
  };
}

export function decodeSpendingLimit(address: PublicKey, info: AccountInfo<Buffer>): SpendingLimitState {
  assertSquadsAccount(address, info, multisig.generated.spendingLimitDiscriminator, 'spending limit');
  const [account] = multisig.accounts.SpendingLimit.fromAccountInfo(info);
  return {
    address,
    createKey: account.createKey,
    asset: account.mint.equals(SOL_LIMIT_MINT) ? 'SOL' : account.mint,
    vaultIndex: account.vaultIndex,
    amount: toBigInt(account.amount),
    period: account.period,
    remainingAmount: toBigInt(account.remainingAmount),
    lastReset: toBigInt(account.lastReset),
    members: account.members,
    destinations: account.destinations,
  };
}

/** The amount of an SPL Token or Token-2022 account (the base layout both share: mint, owner, amount). */
export function decodeTokenAmount(info: AccountInfo<Buffer>): bigint {
  if (info.data.length < 72)
    throw new WaiaasError('CHAIN_REJECTED', { message: 'Not a token account', layer: 'chain' });
  return info.data.readBigUInt64LE(64);
}

export const memberOf = (state: MultisigState, key: PublicKey): MemberState | undefined =>
  state.members.find((member) => member.key.equals(key));

const PERIOD_SECONDS: Readonly<Record<number, bigint>> = {
  1: 86_400n,
  2: 7n * 86_400n,
  // The program counts a month as 30 days.
  3: 30n * 86_400n,
};

/**
 * What the chain will allow at `nowUnix` (the cluster's clock), and when that period started: the
 * program resets a limit only when more than one whole period has passed since `lastReset`, and
 * then moves `lastReset` forward by whole periods. The stored `remainingAmount` is only updated by
 * a use, so a reader must apply the reset itself. Off-chain windows that must never be looser than
 * the chain should use the same arithmetic.
 */
export function effectiveLimit(
  limit: Pick<SpendingLimitState, 'amount' | 'remainingAmount' | 'lastReset' | 'period'>,
  nowUnix: bigint,
): { remaining: bigint; periodStart: bigint } {
  const period = PERIOD_SECONDS[limit.period];
  if (period === undefined) return { remaining: limit.remainingAmount, periodStart: limit.lastReset };
  const elapsed = nowUnix - limit.lastReset;
  if (elapsed <= period) return { remaining: limit.remainingAmount, periodStart: limit.lastReset };
  return { remaining: limit.amount, periodStart: limit.lastReset + (elapsed / period) * period };
}
