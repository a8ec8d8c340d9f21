/**
 * The chain part of every owner act that changes members or spending limits (freeze, resume, policy,
 * rotation), with budget continuity (src/squads/owner-acts/budget-carry.ts):
 *   1. read the multisig, its limits, the clock, the vault's balances and the records earlier acts
 *      took of each asset's spending period;
 *   2. plan the change; record each asset's period in the act's detail BEFORE sending, so a later
 *      act (a resume after this freeze, say) knows what the period had spent even once the limit is
 *      gone;
 *   3. where a limit is re-created carrying the period's spending, make the server's window hold
 *      those transfers from now on (its rolling day then ends no sooner than the chain's new period);
 *   4. sign as fee payer and owner, send, confirm;
 *   5. close the wallet's decided approval requests, rejecting the ones still open on chain with the
 *      owner's signature (their rent back to the fee payer: close-proposals.ts).
 * A transaction that loses a race with a spend made meanwhile (the pin) fails as a whole; the act is
 * pending and the same call builds it again from a fresh read.
 */
import { PublicKey } from '@solana/web3.js';
import { DAILY_WINDOW_MARGIN_SECONDS } from '../../core/policy-window.ts';
import type { OwnerSigner } from '../../keys/types.ts';
import {
  type CurrentWalletConfig,
  readVaultBalances,
  type TargetWalletConfig,
  type TokenAsset,
} from '../../squads/index.ts';
import type { BudgetContext, LimitPlan, WalletConfigPlan } from '../../squads/owner-acts/wallet-config.ts';
import { planWalletConfig, walletConfigTransactions } from '../../squads/owner-acts/wallet-config.ts';
import type { Wallet } from '../../store/index.ts';
import { appendActPeriods, recentPeriodRecords } from '../../store/owner-acts.ts';
import { holdCountedSpends } from '../../store/wallet-budget.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { settleApprovalRent } from '../transfers/approval/close-proposals.ts';
import { signSendConfirm } from '../wallets/send-signed.ts';
import { readChainUnixTime, readTokenAssets } from './chain-reads.ts';
import { readWalletConfig } from './common.ts';

/** Records older than this cannot matter: a Day period has ended by then. */
const RECORDS_LOOK_BACK_MS = 2 * 86_400_000;

export interface ConfigChange {
  readonly status: 'done' | 'unchanged';
  /** The last transaction's (the change is done once it landed). */
  readonly signature?: string;
  /** Every transaction's, in order: one unless the change did not fit a packet. */
  readonly signatures: readonly string[];
  /** What the act did to each of the agent's limits (amounts in base units). */
  readonly limits: readonly LimitPlan[];
}

/** The clock, the vault's balances and token facts of every limited asset, and the period records. */
export async function readBudgetContext(
  runtime: Runtime,
  wallet: Wallet,
  current: CurrentWalletConfig,
  policyAssets: Iterable<string>,
): Promise<BudgetContext> {
  const connection = runtime.chain.connection;
  const multisig = new PublicKey(wallet.multisig);
  const mints = [
    ...new Set([
      ...[...policyAssets].filter((asset) => asset !== 'SOL'),
      ...current.spendingLimits.flatMap((limit) => (limit.asset === 'SOL' ? [] : [limit.asset.toBase58()])),
    ]),
  ].map((mint) => new PublicKey(mint));
  const [chainTime, tokenFacts, records] = await Promise.all([
    readChainUnixTime(connection),
    readTokenAssets(connection, mints),
    recentPeriodRecords(runtime.store.db, wallet.id, BigInt(Date.now() - RECORDS_LOOK_BACK_MS)),
  ]);
  const tokens = tokenFacts.filter((token): token is TokenAsset => token !== undefined);
  const balances = await readVaultBalances(connection, multisig, tokens);
  return {
    chainTime,
    balances: new Map([
      ['SOL', balances.lamports],
      ...balances.tokens.map((token) => [token.mint.toBase58(), token.amount] as const),
    ]),
    tokens: new Map(tokens.map((token) => [token.mint.toBase58(), token])),
    records,
  };
}

/**
 * Before sending: each asset's period in the act's detail, and the server's and the enclave's windows
 * held where a limit is re-created carrying spending (spends since that period began count from now).
 */
async function recordPlan(
  runtime: Runtime,
  walletId: string,
  actId: string,
  plan: WalletConfigPlan,
  chainTime: bigint,
): Promise<void> {
  // Every asset, even one with nothing spent: a later act finds the record of the act that created a
  // limit by its time, and must not take an older one for it.
  const periods = plan.limits.map((limit) => ({
    asset: limit.asset,
    spent: limit.spent,
    periodStart: limit.periodStart,
    recordedAt: chainTime,
  }));
  const nowMs = Date.now();
  // Cluster seconds to server milliseconds, with the margin the server's window already allows for skew.
  const offsetMs = BigInt(nowMs) - chainTime * 1000n;
  const carried = plan.limits
    .filter((limit) => limit.action === 'create' && limit.spent !== 0n)
    .map((limit) => ({
      asset: limit.asset,
      sinceMs: limit.periodStart * 1000n + offsetMs - BigInt(DAILY_WINDOW_MARGIN_SECONDS * 1000),
    }));
  await runtime.store.writeTransaction(async (trx) => {
    await appendActPeriods(trx, actId, periods);
    for (const { asset, sinceMs } of carried)
      await holdCountedSpends(trx, walletId, asset, sinceMs, BigInt(nowMs));
  });
  // The enclave's window too (L2 as strict as L1). Only ever stricter, so a failure leaves the enclave
  // as strict as before the act, with the chain's carried limit still holding.
  for (const { asset, sinceMs } of carried) {
    const sinceSeconds = Math.max(0, Math.floor(Number(sinceMs) / 1000));
    await runtime.signers
      .useFor(walletId, (client) => client.holdSpends(walletId, asset, sinceSeconds))
      .catch((error: unknown) =>
        runtime.logger.warn({ err: error, walletId, asset }, 'the enclave could not hold the carried spends'),
      );
  }
}

/**
 * Steps 1–5 for `actId` on `wallet`. `target` says what the wallet should become given what the
 * chain holds; `check` refuses an act the chain state does not allow (a frozen wallet's policy, a
 * rotation of a key that is not the member). The change goes in one transaction when it fits a
 * packet, else in as few as fit, sent in order, each asset's carry whole in one. Throws on failure:
 * the caller decides whether that leaves the act pending (a repeat does only what is left).
 */
export async function sendConfigChange(
  runtime: Runtime,
  ownerSigner: OwnerSigner,
  params: {
    readonly wallet: Wallet;
    readonly owner: PublicKey;
    readonly actId: string;
    readonly policyAssets: Iterable<string>;
    readonly target: (current: CurrentWalletConfig) => TargetWalletConfig;
    readonly check?: (current: CurrentWalletConfig) => void;
  },
): Promise<ConfigChange> {
  const { blockhash, lastValidBlockHeight } = await runtime.chain.recentBlockhash();
  const current = await readWalletConfig(runtime, params.wallet);
  params.check?.(current);
  const budget = await readBudgetContext(runtime, params.wallet, current, params.policyAssets);
  const feePayer = runtime.feePayer.publicKey;
  const plan = planWalletConfig({
    current,
    target: params.target(current),
    owner: params.owner,
    rentPayer: feePayer,
    rentCollector: feePayer,
    budget,
  });
  const transactions = walletConfigTransactions({ feePayer, recentBlockhash: blockhash }, plan);
  if (transactions.length === 0) {
    await closeDecidedApprovalsAsOwner(runtime, params.wallet, params.owner, ownerSigner);
    return { status: 'unchanged', limits: plan.limits, signatures: [] };
  }
  await recordPlan(runtime, params.wallet.id, params.actId, plan, budget.chainTime);
  const signatures: string[] = [];
  for (const transaction of transactions) {
    signatures.push(
      await signSendConfirm(
        runtime.chain,
        transaction,
        lastValidBlockHeight,
        [runtime.feePayer],
        ownerSigner,
      ),
    );
  }
  await closeDecidedApprovalsAsOwner(runtime, params.wallet, params.owner, ownerSigner);
  return { status: 'done', signature: signatures.at(-1)!, limits: plan.limits, signatures };
}

/** A plan's limits as an act's answer and records show them: base units as strings. */
export const limitFacts = (limits: readonly LimitPlan[]) =>
  limits.map((limit) => ({
    asset: limit.asset,
    action: limit.action,
    amount: limit.amount.toString(),
    spentThisPeriod: limit.spent.toString(),
    remaining: limit.remaining.toString(),
  }));

/**
 * After an owner act's chain step, with the owner's signer at hand: the wallet's decided approval
 * requests are closed, rejecting first the ones still open on chain (expired, or rejected without the
 * second factor), so their rent goes back to the fee payer. Never fails the act: what cannot be closed
 * now waits for the next one.
 */
export async function closeDecidedApprovalsAsOwner(
  runtime: Runtime,
  wallet: Wallet,
  owner: PublicKey,
  ownerSigner: OwnerSigner,
): Promise<void> {
  try {
    await settleApprovalRent(runtime, wallet.id, new PublicKey(wallet.multisig), {
      publicKey: owner,
      signer: ownerSigner,
    });
  } catch (error) {
    runtime.logger.warn({ err: error, walletId: wallet.id }, 'could not close decided approval requests');
  }
}
