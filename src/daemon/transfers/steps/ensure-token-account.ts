/**
 * Before a token transfer: the recipient's associated token account must exist. When it does not,
 * the fee payer alone creates it (idempotent instruction) in its own transaction, so the enclave is
 * never asked to sign anything but Squads instructions. Known accounts are remembered: one look-up
 * per recipient and mint for the daemon's life.
 */
import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../../core/errors.ts';
import {
  associatedTokenAddress,
  buildCreateTokenAccountTransaction,
  chainRejection,
  type TokenAsset,
} from '../../../squads/index.ts';
import { rpcFailure } from '../../wallets/send-signed.ts';
import { chargeTokenAccountCreation, tokenAccountRent } from '../approval/fee-budget.ts';
import type { PipelineContext } from '../context.ts';

export async function ensureTokenAccount(
  ctx: PipelineContext,
  owner: string,
  token: TokenAsset,
  /** The transfer it is for: the creation is charged to its wallet's fee budget. */
  charge?: Parameters<typeof chargeTokenAccountCreation>[1],
): Promise<void> {
  const ownerKey = new PublicKey(owner);
  const account = associatedTokenAddress(ownerKey, token);
  if (ctx.tokens.knownAccount(account)) return;
  let exists: boolean;
  try {
    exists = (await ctx.chain.connection.getAccountInfo(account, 'confirmed')) !== null;
  } catch (error) {
    throw new WaiaasError('CHAIN_UNAVAILABLE', {
      message: 'Reading the recipient token account failed',
      details: { account: account.toBase58() },
      cause: error,
    });
  }
  if (!exists) {
    if (charge) await chargeTokenAccountCreation(ctx, charge, await tokenAccountRent(ctx, owner, token));
    const { blockhash, lastValidBlockHeight } = await ctx.chain.recentBlockhash();
    const transaction = buildCreateTokenAccountTransaction({
      feePayer: ctx.feePayer.publicKey,
      recentBlockhash: blockhash,
      owner: ownerKey,
      token,
    });
    transaction.sign([ctx.runtime.feePayer]);
    let signature: string;
    try {
      signature = await ctx.chain.send(transaction.serialize());
    } catch (error) {
      throw rpcFailure(error);
    }
    const outcome = await ctx.chain.confirm(signature, lastValidBlockHeight);
    if (outcome.status === 'failed') throw chainRejection(outcome.err);
    if (outcome.status !== 'confirmed') {
      throw new WaiaasError('CHAIN_UNAVAILABLE', {
        message: 'Creating the recipient token account was not confirmed in time',
        details: { account: account.toBase58(), signature },
      });
    }
  }
  ctx.tokens.rememberAccount(account);
}
