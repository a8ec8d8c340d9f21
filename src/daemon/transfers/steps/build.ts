/**
 * Step 4: the unsigned transaction. The agent's autonomous tiers are one `spendingLimitUse` (with a
 * compute-unit limit); the approval tier is a vault transaction + proposal the agent creates and
 * approves. The fee payer pays both; the blockhash comes from the chain client's shared cache (no
 * round trip per transfer), and the spend's message from a per-recipient template (spend-templates.ts).
 */
import { createHash } from 'node:crypto';
import { PublicKey } from '@solana/web3.js';
import { buildAgentTransfer, buildVaultTransferProposal, type TransferAsset } from '../../../squads/index.ts';
import type { TransferRecord } from '../../../store/transfers.ts';
import type { PipelineContext } from '../context.ts';
import type { WalletContext } from '../wallet-context.ts';
import { type BuiltTransaction, builtFromMessage, builtFromVersioned } from './signed-message.ts';

export type { BuiltTransaction } from './signed-message.ts';

/**
 * Two transfers of one wallet with the same amount and recipient, built on the same blockhash, would
 * be the same bytes and land once for both. The compute-unit limit (above what spendingLimitUse needs,
 * so it changes nothing else) carries a per-transfer variant that tells them apart; a collision still
 * left is caught by the unique signature when it is stored, and the next variant is tried.
 */
const UNIT_LIMIT_BASE = { SOL: 40_000, token: 120_000 } as const;
const UNIT_LIMIT_VARIANTS = 20_000;

export const unitLimitFor = (transferId: string, asset: TransferAsset, attempt: number): number => {
  const seed = createHash('sha256').update(transferId).digest().readUInt32LE(0);
  return (
    (asset === 'SOL' ? UNIT_LIMIT_BASE.SOL : UNIT_LIMIT_BASE.token) + ((seed + attempt) % UNIT_LIMIT_VARIANTS)
  );
};

export async function buildAgentSpend(
  ctx: PipelineContext,
  wallet: WalletContext,
  agent: PublicKey,
  record: TransferRecord,
  asset: TransferAsset,
  attempt = 0,
): Promise<BuiltTransaction> {
  const { blockhash, lastValidBlockHeight } = await ctx.chain.recentBlockhash();
  const unitLimit = unitLimitFor(record.id, asset, attempt);
  if (record.memo !== null) {
    const transaction = buildAgentTransfer({
      computeBudget: { unitLimit },
      multisig: wallet.multisig,
      agent,
      asset,
      amount: record.amount,
      destination: new PublicKey(record.destination),
      memo: record.memo,
      feePayer: ctx.feePayer.publicKey,
      recentBlockhash: blockhash,
    });
    return builtFromVersioned(transaction, lastValidBlockHeight);
  }
  const agentAddress = agent === wallet.agent ? wallet.agentAddress : agent.toBase58();
  const { message, signers } = ctx.spends.message({
    walletKey: `${wallet.id}|${agentAddress}`,
    multisig: wallet.multisig,
    agent,
    asset,
    destination: record.destination,
    feePayer: ctx.feePayer.publicKey,
    amount: record.amount,
    unitLimit,
    blockhash,
  });
  return builtFromMessage(message, signers, lastValidBlockHeight);
}

export async function buildProposal(
  ctx: PipelineContext,
  wallet: WalletContext,
  agent: PublicKey,
  record: TransferRecord,
  asset: TransferAsset,
  transactionIndex: bigint,
): Promise<BuiltTransaction> {
  const { blockhash, lastValidBlockHeight } = await ctx.chain.recentBlockhash();
  const proposal = buildVaultTransferProposal({
    multisig: wallet.multisig,
    agent,
    transactionIndex,
    transfer: { asset, amount: record.amount, destination: new PublicKey(record.destination) },
    ...(record.memo !== null && { memo: record.memo }),
    feePayer: ctx.feePayer.publicKey,
    recentBlockhash: blockhash,
  });
  return builtFromVersioned(proposal.transaction, lastValidBlockHeight, transactionIndex);
}
