/**
 * The agent's autonomous tiers (instant, notify, and delay once due) from `signing` to the end:
 * build → enclave sign → fee-payer sign → persist signed → submit → confirm → record. A blockhash
 * that provably expired unsent sends it round again with a new one; nothing is signed twice before.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import { findTransfer, type TransferRecord, transitionTransfer } from '../../store/transfers.ts';
import { nowBig, type PipelineContext, reachedStep } from './context.ts';
import { driveSigned } from './drive-signed.ts';
import { type BuiltTransaction, buildAgentSpend } from './steps/build.ts';
import { enclaveSign, isAgentKeyRefusal } from './steps/enclave-sign.ts';
import { ensureTokenAccount } from './steps/ensure-token-account.ts';
import { feePayerSign } from './steps/fee-payer-sign.ts';
import { persistSigned, type SignedTransaction } from './steps/persist-signed.ts';
import { type OnRetryable, RETRY_LATER_MS, settleUnsigned } from './steps/settle-unsigned.ts';
import { isHalt } from './types.ts';
import type { WalletContext } from './wallet-context.ts';

/** Rounds of signing after expiries before the transfer is left for the recovery worker. */
const MAX_SIGNING_ROUNDS = 3;
const BLOCKHASH_WAIT_MS = 3_000;

const noAgent = (walletId: string) =>
  new WaiaasError('CONFLICT', { message: 'The wallet has no active agent key', details: { walletId } });

/** The enclave signs; if the key it was built for was rotated out, once more with the current key. */
async function signAsAgent(
  ctx: PipelineContext,
  wallet: WalletContext,
  record: TransferRecord,
  build: (wallet: WalletContext, agent: PublicKey) => Promise<BuiltTransaction>,
): Promise<BuiltTransaction> {
  if (wallet.agent === undefined) throw noAgent(wallet.id);
  const built = await build(wallet, wallet.agent);
  await reachedStep(ctx, 'built', record);
  try {
    await enclaveSign(ctx, wallet.id, record.id, built);
    return built;
  } catch (error) {
    if (!isAgentKeyRefusal(error)) throw error;
    ctx.wallets.invalidate(wallet.id);
    const fresh = await ctx.wallets.get(ctx.store.db, wallet.id);
    if (fresh?.agent === undefined || fresh.agent.equals(wallet.agent)) throw error;
    const rebuilt = await build(fresh, fresh.agent);
    await enclaveSign(ctx, fresh.id, record.id, rebuilt);
    return rebuilt;
  }
}

/** Variants of the same transfer tried when its bytes match another transfer's (see build.ts). */
const MAX_VARIANTS = 5;

/** Steps 4–7; a transfer that failed before it was stored signed is settled by settleUnsigned. */
async function signSpend(
  ctx: PipelineContext,
  record: TransferRecord,
  wallet: WalletContext,
  onRetryable: OnRetryable,
): Promise<SignedTransaction | TransferRecord> {
  try {
    const asset = await ctx.tokens.transferAsset(ctx.chain, record.asset);
    if (asset !== 'SOL') {
      await ensureTokenAccount(ctx, record.destination, asset, {
        walletId: wallet.id,
        transferId: record.id,
        policy: wallet.policy,
      });
    }
    for (let variant = 0; variant < MAX_VARIANTS; variant++) {
      const built = await signAsAgent(ctx, wallet, record, (current, agent) =>
        buildAgentSpend(ctx, current, agent, record, asset, variant),
      );
      await reachedStep(ctx, 'enclave-signed', record);
      const signature = feePayerSign(ctx, built);
      await reachedStep(ctx, 'fee-payer-signed', record);
      const persisted = await persistSigned(ctx, record, built, signature);
      if (persisted.kind === 'duplicate') continue;
      // Moved on by someone else meanwhile (cancelled by a freeze): it must not be sent.
      if (persisted.kind === 'moved') return (await findTransfer(ctx.store.db, record.id)) ?? record;
      await reachedStep(ctx, 'persisted', persisted.record);
      return persisted;
    }
    throw new WaiaasError('INTERNAL', { message: 'Every variant of the transaction was already taken' });
  } catch (error) {
    if (isHalt(error)) throw error;
    return settleUnsigned(ctx, record, error, onRetryable);
  }
}

/**
 * After an expiry the shared blockhash may still be the expired one (it is cached for a second, and a
 * cluster that stalled or a localnet whose clock jumped leaves it stale): wait for a newer one.
 */
async function blockhashNewerThan(ctx: PipelineContext, lastValidBlockHeight: bigint): Promise<void> {
  const deadline = Date.now() + BLOCKHASH_WAIT_MS;
  while ((await ctx.chain.recentBlockhash()).lastValidBlockHeight <= lastValidBlockHeight) {
    if (Date.now() > deadline) return;
    await sleep(100);
  }
}

export async function executeSpend(
  ctx: PipelineContext,
  record: TransferRecord,
  wallet: WalletContext,
  onRetryable: OnRetryable,
): Promise<TransferRecord> {
  let current = record;
  for (let round = 0; round < MAX_SIGNING_ROUNDS && current.status === 'signing'; round++) {
    const signed = await signSpend(ctx, current, wallet, onRetryable);
    if (!('wire' in signed)) return signed;
    current = await driveSigned(ctx, signed.record, {
      wire: signed.wire,
      fresh: true,
      skipPreflight: true,
      vault: wallet.vault,
    });
    if (current.status === 'signing') await blockhashNewerThan(ctx, signed.record.lastValidBlockHeight!);
  }
  if (current.status === 'signing') {
    // Left for the recovery worker, soon rather than after the whole lease.
    const nowMs = nowBig(ctx);
    await transitionTransfer(
      ctx.store.db,
      current.id,
      { from: ['signing'], claimedBy: ctx.replicaId },
      { claimed_until: nowMs + BigInt(RETRY_LATER_MS), updated_at: nowMs },
    );
  }
  return current;
}
