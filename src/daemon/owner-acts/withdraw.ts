/**
 * The owner takes SOL or a token out of the vault to an address of its choosing, in one owner
 * transaction (a one-time owner spending limit added, used and removed: see squads buildWithdraw).
 * Members, threshold and the agent's limits stay as they are, so it works on live and frozen wallets
 * alike. The signed transaction's signature is recorded before it is sent; with an idempotency key a
 * repeated call answers from that record instead of moving funds twice.
 */
import { createHash } from 'node:crypto';
import { PublicKey, type VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { WaiaasError } from '../../core/errors.ts';
import { signWeb3Transaction } from '../../keys/index.ts';
import type { OwnerSigner } from '../../keys/types.ts';
import {
  buildWithdraw,
  chainRejection,
  readVaultBalances,
  resolveWithdrawAmount,
  type TransferAsset,
} from '../../squads/index.ts';
import type { Owner, Wallet } from '../../store/index.ts';
import { findOwnerActByKey, insertOwnerAct, type OwnerAct, updateOwnerAct } from '../../store/owner-acts.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { rpcFailure } from '../wallets/send-signed.ts';
import { readTokenAsset } from './chain-reads.ts';
import { assertSettled, assertUnlockOffered, newActId, oneActAtATime, ownersWallet } from './common.ts';
import { closeDecidedApprovalsAsOwner } from './config-change.ts';
import { ownerActor, recordAct } from './record.ts';

export interface WithdrawParams {
  readonly owner: Owner;
  readonly walletId: string;
  readonly unlock: string | undefined;
  /** The owner's address receiving the funds (a wallet; for tokens its token account is created if missing). */
  readonly to: string;
  /** "all", or base units as a decimal string. */
  readonly amount: string;
  /** The token's mint; SOL when absent. */
  readonly mint?: string | undefined;
  readonly idempotencyKey?: string | undefined;
}

export interface WithdrawResult {
  readonly walletId: string;
  readonly to: string;
  /** "SOL" or the mint. */
  readonly asset: string;
  readonly amount: string;
  readonly signature: string;
  /** True when this answers a repeated call with the same idempotency key. */
  readonly repeated: boolean;
}

interface ValidatedWithdraw {
  readonly owner: Owner;
  readonly wallet: Wallet;
  readonly unlock: string | undefined;
  readonly to: PublicKey;
  readonly amount: bigint | 'all';
  readonly mint: PublicKey | undefined;
  readonly idempotencyKey: string | undefined;
  readonly requestHash: string;
}

const U64_MAX = 2n ** 64n - 1n;

const parseAddress = (value: string, field: string): PublicKey => {
  try {
    const key = new PublicKey(value);
    if (key.toBase58() === value) return key;
  } catch {
    // reported below
  }
  throw new WaiaasError('INVALID_ADDRESS', { details: { field } });
};

const parseAmount = (value: string): bigint | 'all' => {
  if (value === 'all') return 'all';
  if (!/^[1-9][0-9]{0,19}$/.test(value) || BigInt(value) > U64_MAX) {
    throw new WaiaasError('INVALID_AMOUNT', { details: { field: 'amount' } });
  }
  return BigInt(value);
};

export async function validateWithdraw(runtime: Runtime, params: WithdrawParams): Promise<ValidatedWithdraw> {
  const wallet = await ownersWallet(runtime, params.owner, params.walletId);
  assertSettled(wallet);
  const to = parseAddress(params.to, 'to');
  if (to.toBase58() === wallet.vault || to.toBase58() === wallet.multisig) {
    throw new WaiaasError('INVALID_ADDRESS', {
      message: 'Withdraw to an address outside the wallet, not to its vault or multisig.',
      details: { field: 'to' },
    });
  }
  const amount = parseAmount(params.amount);
  const mint = params.mint === undefined ? undefined : parseAddress(params.mint, 'mint');
  const requestHash = createHash('sha256')
    .update(JSON.stringify({ to: to.toBase58(), amount: params.amount, mint: mint?.toBase58() ?? null }))
    .digest('hex');
  assertUnlockOffered(runtime, params.owner, params.unlock);
  return {
    owner: params.owner,
    wallet,
    unlock: params.unlock,
    to,
    amount,
    mint,
    idempotencyKey: params.idempotencyKey,
    requestHash,
  };
}

const resultOf = (act: OwnerAct, repeated: boolean): WithdrawResult => {
  const detail = act.detail as { to: string; asset: string; amount: string };
  return {
    walletId: act.walletId,
    to: detail.to,
    asset: detail.asset,
    amount: detail.amount,
    signature: act.signature ?? '',
    repeated,
  };
};

/** The withdrawal landed: the act done, in the audit log and the owner's webhooks, in one transaction. */
async function recordDone(
  runtime: Runtime,
  owner: Owner,
  act: Pick<OwnerAct, 'id' | 'walletId' | 'detail'>,
  signature: string,
) {
  const { to, asset, amount } = act.detail as { to: string; asset: string; amount: string };
  await runtime.store.writeTransaction(async (trx) => {
    await updateOwnerAct(trx, act.id, { status: 'done', errorCode: null });
    await recordAct(trx, {
      kind: 'owner.withdraw',
      actor: ownerActor(owner),
      walletId: act.walletId,
      subject: act.id,
      details: { outcome: 'done', to, asset, amount, signature },
      event: { type: 'wallet.withdrawn', data: { to, asset, amount, signature } },
    });
  });
}

/** The chain refused the withdrawal: recorded, so a refused owner act is as visible as a done one. */
async function recordFailed(
  runtime: Runtime,
  owner: Owner,
  actId: string,
  walletId: string,
  detail: Record<string, unknown>,
  error: WaiaasError,
) {
  await runtime.store.writeTransaction(async (trx) => {
    await updateOwnerAct(trx, actId, { status: 'failed', errorCode: error.code });
    await recordAct(trx, {
      kind: 'owner.withdraw',
      actor: ownerActor(owner),
      walletId,
      subject: actId,
      details: { outcome: 'failed', errorCode: error.code, ...detail },
    });
  });
}

/**
 * What a repeated call finds: the earlier answer, a refusal, or undefined when the earlier attempt
 * provably did not land (its blockhash expired) and may be made again.
 */
async function earlierAttempt(
  runtime: Runtime,
  validated: ValidatedWithdraw,
): Promise<{ act: OwnerAct; result?: WithdrawResult } | undefined> {
  if (validated.idempotencyKey === undefined) return undefined;
  const act = await findOwnerActByKey(runtime.store.db, validated.wallet.id, validated.idempotencyKey);
  if (act === undefined) return undefined;
  if (act.kind !== 'withdraw' || act.requestHash !== validated.requestHash) {
    throw new WaiaasError('IDEMPOTENCY_CONFLICT', { details: { idempotencyKey: validated.idempotencyKey } });
  }
  if (act.status === 'done') return { act, result: resultOf(act, true) };
  if (act.signature === null || act.lastValidBlockHeight === null) return { act };
  const outcome = await runtime.chain.confirm(act.signature, act.lastValidBlockHeight);
  if (outcome.status === 'confirmed') {
    await recordDone(runtime, validated.owner, act, act.signature);
    return { act, result: resultOf({ ...act, status: 'done' }, true) };
  }
  if (outcome.status === 'failed' || outcome.status === 'expired') return { act };
  throw new WaiaasError('CONFLICT', {
    message: 'The earlier withdrawal with this idempotency key is still in flight; ask again shortly.',
    details: { signature: act.signature },
  });
}

async function buildFor(runtime: Runtime, validated: ValidatedWithdraw) {
  const { wallet, owner } = validated;
  const multisig = new PublicKey(wallet.multisig);
  const asset: TransferAsset =
    validated.mint === undefined ? 'SOL' : await readTokenAsset(runtime.chain.connection, validated.mint);
  const balances = await readVaultBalances(
    runtime.chain.connection,
    multisig,
    asset === 'SOL' ? [] : [asset],
  );
  const balance = asset === 'SOL' ? balances.lamports : (balances.tokens[0]?.amount ?? 0n);
  const amount = resolveWithdrawAmount(validated.amount, balance, asset);
  const { blockhash, lastValidBlockHeight } = await runtime.chain.recentBlockhash();
  const transaction = buildWithdraw({
    multisig,
    owner: new PublicKey(owner.publicKey),
    destination: validated.to,
    asset,
    amount,
    feePayer: runtime.feePayer.publicKey,
    recentBlockhash: blockhash,
  });
  return { transaction, lastValidBlockHeight, amount, assetLabel: validated.mint?.toBase58() ?? 'SOL' };
}

async function signed(runtime: Runtime, transaction: VersionedTransaction, ownerSigner: OwnerSigner) {
  transaction.sign([runtime.feePayer]);
  await signWeb3Transaction(ownerSigner, transaction);
  return bs58.encode(transaction.signatures[0]!);
}

export async function executeWithdraw(
  runtime: Runtime,
  validated: ValidatedWithdraw,
): Promise<WithdrawResult> {
  return oneActAtATime(runtime, validated.wallet.id, () =>
    runtime.ownerKeys.of(validated.owner).withUnlock(validated.unlock, async (ownerSigner) => {
      const earlier = await earlierAttempt(runtime, validated);
      if (earlier?.result) return earlier.result;

      const { transaction, lastValidBlockHeight, amount, assetLabel } = await buildFor(runtime, validated);
      const signature = await signed(runtime, transaction, ownerSigner);
      const detail = { to: validated.to.toBase58(), asset: assetLabel, amount: amount.toString() };
      const actId = earlier?.act.id ?? newActId();
      if (earlier) {
        await updateOwnerAct(runtime.store.db, actId, {
          status: 'pending',
          detail,
          signature,
          lastValidBlockHeight,
          errorCode: null,
        });
      } else {
        await insertOwnerAct(runtime.store.db, {
          id: actId,
          walletId: validated.wallet.id,
          kind: 'withdraw',
          idempotencyKey: validated.idempotencyKey ?? null,
          requestHash: validated.requestHash,
          detail,
          signature,
          lastValidBlockHeight,
        });
      }

      const fail = async (error: WaiaasError) => {
        await recordFailed(runtime, validated.owner, actId, validated.wallet.id, detail, error);
        return error;
      };
      try {
        await runtime.chain.send(transaction.serialize());
      } catch (error) {
        throw await fail(rpcFailure(error));
      }
      const outcome = await runtime.chain.confirm(signature, lastValidBlockHeight);
      if (outcome.status === 'failed') throw await fail(chainRejection(outcome.err));
      if (outcome.status !== 'confirmed') {
        throw new WaiaasError('CHAIN_UNAVAILABLE', {
          message: 'The withdrawal was not confirmed in time; repeat the call with the same idempotency key.',
          details: { signature },
        });
      }
      await recordDone(
        runtime,
        validated.owner,
        { id: actId, walletId: validated.wallet.id, detail },
        signature,
      );
      await closeDecidedApprovalsAsOwner(
        runtime,
        validated.wallet,
        new PublicKey(validated.owner.publicKey),
        ownerSigner,
      );
      return { walletId: validated.wallet.id, ...detail, signature, repeated: false };
    }),
  );
}

export async function withdraw(runtime: Runtime, params: WithdrawParams): Promise<WithdrawResult> {
  return executeWithdraw(runtime, await validateWithdraw(runtime, params));
}
