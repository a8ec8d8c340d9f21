import {
  type PublicKey,
  SystemProgram,
  type TransactionInstruction,
  type VersionedTransaction,
} from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { assertTransferAsset, limitAssetOf, type TransferAsset } from './assets.ts';
import { compileTransaction, type TransactionEnvelope } from './compile.ts';
import { associatedTokenAddress, spendingLimitAddress, tokenProgramOf, vaultAddress } from './pdas.ts';
import { SOL_DECIMALS, SQUADS_PROGRAM_ID } from './program.ts';
import { assertAmount, assertDistinct, assertNotVault } from './validate.ts';

type SpendingLimitUseArgs = Parameters<
  typeof multisig.generated.createSpendingLimitUseInstruction
>[1]['args'];

/**
 * beet encodes any non-BN amount as `new BN(value)`, which parses a decimal string exactly; the
 * SDK's wrapper takes a JS number and would round amounts above 2^53.
 */
const u64Argument = (amount: bigint): SpendingLimitUseArgs['amount'] =>
  amount.toString() as unknown as SpendingLimitUseArgs['amount'];

export interface SpendingLimitUseParams {
  readonly multisig: PublicKey;
  readonly member: PublicKey;
  readonly spendingLimit: PublicKey;
  readonly asset: TransferAsset;
  readonly amount: bigint;
  readonly destination: PublicKey;
  readonly memo?: string;
}

/** `member` spends `amount` of `asset` from vault 0 to `destination` under `spendingLimit`. */
export function spendingLimitUseInstruction(params: SpendingLimitUseParams): TransactionInstruction {
  assertNotVault(params.destination, vaultAddress(params.multisig));
  return encodeSpendingLimitUse(params);
}

/**
 * The instruction without the "not to the vault" check: only for the owner's vault-to-vault use that
 * carries a period's spent amount into a re-created limit (see owner-acts/budget-carry.ts).
 */
export function encodeSpendingLimitUse(params: SpendingLimitUseParams): TransactionInstruction {
  assertTransferAsset(params.asset);
  assertAmount(params.amount);
  const vault = vaultAddress(params.multisig);
  const token = params.asset === 'SOL' ? undefined : params.asset;
  return multisig.generated.createSpendingLimitUseInstruction(
    {
      multisig: params.multisig,
      member: params.member,
      spendingLimit: params.spendingLimit,
      vault,
      destination: params.destination,
      systemProgram: SystemProgram.programId,
      ...(token && {
        mint: token.mint,
        vaultTokenAccount: associatedTokenAddress(vault, token),
        destinationTokenAccount: associatedTokenAddress(params.destination, token),
        tokenProgram: tokenProgramOf(token),
      }),
    },
    {
      args: {
        amount: u64Argument(params.amount),
        decimals: token ? token.decimals : SOL_DECIMALS,
        memo: params.memo ?? null,
      },
    },
    SQUADS_PROGRAM_ID,
  );
}

export interface AgentTransferParams extends TransactionEnvelope {
  readonly multisig: PublicKey;
  readonly agent: PublicKey;
  readonly asset: TransferAsset;
  readonly amount: bigint;
  /** The recipient's wallet address; for tokens its associated token account must exist. */
  readonly destination: PublicKey;
  readonly memo?: string;
}

/**
 * The agent's autonomous transfer: one spendingLimitUse under the wallet's limit for the asset
 * (plus compute-budget instructions if asked). Signed by the agent as member and by the fee payer,
 * which must be another key.
 */
export function buildAgentTransfer(params: AgentTransferParams): VersionedTransaction {
  assertDistinct({ agent: params.agent, 'fee payer': params.feePayer });
  return compileTransaction(params, [
    spendingLimitUseInstruction({
      multisig: params.multisig,
      member: params.agent,
      spendingLimit: spendingLimitAddress(params.multisig, limitAssetOf(params.asset)),
      asset: params.asset,
      amount: params.amount,
      destination: params.destination,
      ...(params.memo !== undefined && { memo: params.memo }),
    }),
  ]);
}
