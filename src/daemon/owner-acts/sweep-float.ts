/**
 * The owner sweeps the agent float back into the vault, in one act, frozen or not. The float's tokens
 * belong to the Agent Key, so the owner key cannot move them; the sweep is a TransferChecked that the
 * enclave signs, and the enclave signs exactly this shape — from the agent's own associated token
 * account to the vault's, with nothing else but a compute-unit limit — under any policy, the frozen
 * one included (src/enclave/inspect-transaction.ts). A compromised daemon gains nothing by asking for
 * it: the tokens only go back to the vault. The daemon's fee payer pays; every account of the agent
 * that holds tokens is swept, each as a transfer row (kind `float_sweep`, not counted against any
 * budget) audited and notified like a transfer.
 */
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { type Connection, PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import { associatedTokenAddress, type TokenAsset } from '../../squads/index.ts';
import type { Owner } from '../../store/index.ts';
import { insertTransfer, type TransferRecord } from '../../store/transfers.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { PipelineContext } from '../transfers/context.ts';
import { driveSigned } from '../transfers/drive-signed.ts';
import { enclaveSign } from '../transfers/steps/enclave-sign.ts';
import { ensureTokenAccount } from '../transfers/steps/ensure-token-account.ts';
import { feePayerSign } from '../transfers/steps/fee-payer-sign.ts';
import { persistSigned } from '../transfers/steps/persist-signed.ts';
import { newTransferId } from '../transfers/steps/reserve.ts';
import { settleUnsigned } from '../transfers/steps/settle-unsigned.ts';
import { track } from '../transfers/track.ts';
import type { WalletContext } from '../transfers/wallet-context.ts';
import { buildFloatSweep } from '../x402/build.ts';
import { assertSettled, oneActAtATime, ownersWallet } from './common.ts';

export interface SweptAccount {
  readonly mint: string;
  readonly amount: string;
  readonly transferId: string;
  readonly status: TransferRecord['status'];
  readonly signature: string | undefined;
}

export interface SweepResult {
  readonly walletId: string;
  readonly swept: SweptAccount[];
}

interface FloatAccount {
  readonly token: TokenAsset;
  readonly amount: bigint;
}

/** The agent's associated token accounts that hold something: its floats. */
async function floatsOf(connection: Connection, agent: PublicKey): Promise<FloatAccount[]> {
  const floats: FloatAccount[] = [];
  for (const programId of [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]) {
    let found: Awaited<ReturnType<Connection['getTokenAccountsByOwner']>>;
    try {
      found = await connection.getTokenAccountsByOwner(agent, { programId }, 'confirmed');
    } catch (error) {
      throw new WaiaasError('CHAIN_UNAVAILABLE', {
        message: 'Reading the agent’s token accounts failed',
        cause: error,
      });
    }
    for (const { pubkey, account } of found.value) {
      const data = Buffer.from(account.data);
      const amount = data.readBigUInt64LE(64);
      const mint = new PublicKey(data.subarray(0, 32));
      if (amount === 0n) continue;
      // Only the associated account is the float; the enclave signs for no other.
      const decimals = await mintDecimals(connection, mint);
      const token: TokenAsset = { mint, decimals, tokenProgram: programId };
      if (associatedTokenAddress(agent, token).equals(pubkey)) floats.push({ token, amount });
    }
  }
  return floats;
}

async function mintDecimals(connection: Connection, mint: PublicKey): Promise<number> {
  const info = await connection.getAccountInfo(mint, 'confirmed');
  if (info === null || info.data.length < 45) {
    throw new WaiaasError('CHAIN_UNAVAILABLE', { message: 'The float’s mint could not be read' });
  }
  return info.data[44]!;
}

async function sweepOne(
  ctx: PipelineContext,
  wallet: WalletContext,
  agent: PublicKey,
  float: FloatAccount,
): Promise<TransferRecord> {
  const nowMs = BigInt(ctx.now());
  const record = await insertTransfer(ctx.store.db, {
    id: newTransferId(),
    walletId: wallet.id,
    idempotencyKey: null,
    requestHash: '',
    asset: float.token.mint.toBase58(),
    amount: float.amount,
    destination: wallet.vaultAddress,
    memo: null,
    tier: 'instant',
    status: 'signing',
    countsDaily: false,
    executeAfter: null,
    expiresAt: null,
    agentPublicKey: agent.toBase58(),
    claimedBy: ctx.replicaId,
    claimedUntil: nowMs + BigInt(ctx.leaseMs),
    nowMs,
    kind: 'float_sweep',
  });
  return track(ctx, record.id, async () => {
    try {
      await ensureTokenAccount(ctx, wallet.vaultAddress, float.token);
      const built = buildFloatSweep({
        agent,
        vault: wallet.vault,
        token: float.token,
        amount: float.amount,
        feePayer: ctx.feePayer.publicKey,
        blockhash: await ctx.chain.recentBlockhash(),
      });
      await enclaveSign(ctx, wallet.id, record.id, built);
      const signature = feePayerSign(ctx, built);
      const persisted = await persistSigned(ctx, record, built, signature);
      if (persisted.kind !== 'stored') return record;
      const done = await driveSigned(ctx, persisted.record, {
        wire: persisted.wire,
        fresh: true,
        skipPreflight: false,
        vault: wallet.vault,
      });
      // Expired unsent: no worker resumes a sweep, so it ends here and the owner sweeps again.
      if (done.status !== 'signing') return done;
      return settleUnsigned(
        ctx,
        done,
        new WaiaasError('CHAIN_UNAVAILABLE', { message: 'The sweep expired unsent; sweep again.' }),
        'withdraw',
      );
    } catch (error) {
      return settleUnsigned(ctx, record, error, 'withdraw');
    }
  });
}

export async function sweepFloat(runtime: Runtime, owner: Owner, walletId: string): Promise<SweepResult> {
  assertSettled(await ownersWallet(runtime, owner, walletId));
  const ctx = runtime.services.payments;
  ctx.wallets.invalidate(walletId);
  const wallet = await ctx.wallets.get(ctx.store.db, walletId);
  if (wallet === undefined) throw new WaiaasError('NOT_FOUND', { message: `No wallet ${walletId}.` });
  const agent = wallet.agent;
  if (agent === undefined) return { walletId, swept: [] };
  return oneActAtATime(runtime, walletId, async () => {
    const swept: SweptAccount[] = [];
    for (const float of await floatsOf(ctx.chain.connection, agent)) {
      const done = await sweepOne(ctx, wallet, agent, float);
      swept.push({
        mint: float.token.mint.toBase58(),
        amount: float.amount.toString(),
        transferId: done.id,
        status: done.status,
        signature: done.signature ?? undefined,
      });
    }
    return { walletId, swept };
  });
}
