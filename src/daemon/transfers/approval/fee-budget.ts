/**
 * The fee payer is the operator's money: what an agent's requests make it spend beyond transaction
 * fees is charged to its wallet's daily fee budget (policy `fees`), and approval requests are bounded
 * in number, so no agent (or holder of its session) can drain the fee payer:
 *   - an approval request locks the rent of a vault transaction and a proposal (about 0.005 SOL)
 *     until they are closed; charged at reservation, at an upper bound, then at the actual rent;
 *   - a token transfer to a recipient without a token account makes the fee payer create it (about
 *     0.002 SOL, gone to the recipient); charged at reservation when the account is missing then, or
 *     when it is created if it went missing since.
 * L1 decides (core decideFeeSpend) under the wallet's lock, so concurrent requests cannot overrun it.
 */

import { TOKEN_2022_PROGRAM_ID } from '@solana/spl-token';
import { PublicKey } from '@solana/web3.js';
import type { Kysely } from 'kysely';
import { WaiaasError } from '../../../core/errors.ts';
import { DAILY_WINDOW_SECONDS, decideFeeSpend, type Policy } from '../../../core/policy.ts';
import { associatedTokenAddress, type TokenAsset } from '../../../squads/index.ts';
import { type FeeSpendKind, feeCounts, hasFeeSpend, insertFeeSpend } from '../../../store/fee-spends.ts';
import type { Database } from '../../../store/index.ts';
import { lockWalletGate } from '../../../store/transfers.ts';
import type { PipelineContext } from '../context.ts';

/**
 * Upper bound of one approval request's rent: 5,158,440 lamports measured for a SOL transfer on the
 * deployed program (DESIGN §8); a token transfer's message is a few accounts longer.
 */
export const APPROVAL_RENT_ESTIMATE = 6_000_000n;

/** Token account sizes: classic Token, and Token-2022 with the immutable-owner extension of an ATA. */
const TOKEN_ACCOUNT_BYTES = 165;
const TOKEN_2022_ACCOUNT_BYTES = 170;

/** Rent of the recipient's token account if the fee payer would have to create it now; else 0. */
export async function tokenAccountRent(
  ctx: PipelineContext,
  destination: string,
  asset: TokenAsset,
): Promise<bigint> {
  const account = associatedTokenAddress(new PublicKey(destination), asset);
  if (ctx.tokens.knownAccount(account)) return 0n;
  const connection = ctx.chain.connection;
  if ((await connection.getAccountInfo(account, 'confirmed')) !== null) {
    ctx.tokens.rememberAccount(account);
    return 0n;
  }
  const bytes = asset.tokenProgram?.equals(TOKEN_2022_PROGRAM_ID)
    ? TOKEN_2022_ACCOUNT_BYTES
    : TOKEN_ACCOUNT_BYTES;
  return BigInt(await connection.getMinimumBalanceForRentExemption(bytes, 'confirmed'));
}

/** What a request would make the fee payer spend, read before its reservation. */
export interface PlannedFees {
  /** Rent of the recipient's token account to create, or 0. */
  readonly tokenAccount: bigint;
}

/** The recipient's token account rent for a token transfer (0 for SOL, or when it cannot be known yet). */
export async function plannedFees(
  ctx: PipelineContext,
  request: { readonly to: string; readonly mint?: string | undefined },
): Promise<PlannedFees> {
  if (request.mint === undefined) return { tokenAccount: 0n };
  try {
    const asset = await ctx.tokens.transferAsset(ctx.chain, request.mint);
    if (asset === 'SOL') return { tokenAccount: 0n };
    return { tokenAccount: await tokenAccountRent(ctx, request.to, asset) };
  } catch {
    // Not a mint, or the chain is down: the reservation refuses it, or the creation charges it.
    return { tokenAccount: 0n };
  }
}

const refusal = (
  walletId: string,
  decision: Exclude<ReturnType<typeof decideFeeSpend>, { ok: true }>,
): WaiaasError =>
  new WaiaasError(decision.code, { layer: 'server', details: { walletId, ...decision.details } });

/**
 * Inside the reservation's transaction (the wallet row locked): refuses a request whose fees the
 * budget cannot take, else charges them to the transfer about to be inserted.
 */
export async function chargeReservation(
  trx: Kysely<Database>,
  params: {
    readonly walletId: string;
    readonly transferId: string;
    readonly policy: Pick<Policy, 'fees'>;
    readonly opensApproval: boolean;
    readonly planned: PlannedFees;
    readonly nowMs: number;
  },
): Promise<void> {
  const charges: [FeeSpendKind, bigint][] = [
    ...(params.opensApproval ? [['approval', APPROVAL_RENT_ESTIMATE] as [FeeSpendKind, bigint]] : []),
    ...(params.planned.tokenAccount > 0n
      ? [['token_account', params.planned.tokenAccount] as [FeeSpendKind, bigint]]
      : []),
  ];
  if (charges.length === 0) return;
  const lamports = charges.reduce((sum, [, amount]) => sum + amount, 0n);
  const counts = await feeCounts(trx, params.walletId, BigInt(params.nowMs - DAILY_WINDOW_SECONDS * 1000));
  const decision = decideFeeSpend(params.policy, { lamports, opensApproval: params.opensApproval }, counts);
  if (!decision.ok) throw refusal(params.walletId, decision);
  for (const [kind, amount] of charges) {
    await insertFeeSpend(trx, {
      walletId: params.walletId,
      transferId: params.transferId,
      kind,
      lamports: amount,
      nowMs: BigInt(params.nowMs),
    });
  }
}

/**
 * Just before the fee payer creates a recipient's token account for `transferId`: charged unless the
 * reservation charged it already, and refused past the budget (the account went missing since).
 */
export async function chargeTokenAccountCreation(
  ctx: PipelineContext,
  params: { readonly walletId: string; readonly transferId: string; readonly policy: Pick<Policy, 'fees'> },
  lamports: bigint,
): Promise<void> {
  if (await hasFeeSpend(ctx.store.db, params.transferId, 'token_account')) return;
  await ctx.store.writeTransaction(async (trx) => {
    await lockWalletGate(trx, ctx.store.engine, params.walletId);
    const nowMs = ctx.now();
    const counts = await feeCounts(trx, params.walletId, BigInt(nowMs - DAILY_WINDOW_SECONDS * 1000));
    const decision = decideFeeSpend(params.policy, { lamports, opensApproval: false }, counts);
    if (!decision.ok) throw refusal(params.walletId, decision);
    await insertFeeSpend(trx, { ...params, kind: 'token_account', lamports, nowMs: BigInt(nowMs) });
  });
}
