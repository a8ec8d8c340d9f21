/**
 * The owner takes funds out of the vault without the agent, in one transaction that leaves no
 * authority behind: add a one-time spending limit for the owner alone, to the one destination,
 * for exactly the amount; use it; remove it. Either all three happen or none does, so no window
 * stays open (unlike lowering the threshold and raising it again later), it works on a frozen
 * wallet as on a live one, and it creates no proposal accounts.
 */
import type { PublicKey, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { WaiaasError } from '../../core/errors.ts';
import { assertTransferAsset, limitAssetOf, limitMintOf, type TransferAsset } from '../assets.ts';
import { compileTransaction, type TransactionEnvelope } from '../compile.ts';
import { withdrawLimitAddress, withdrawLimitCreateKey } from '../pdas.ts';
import { Period, SQUADS_PROGRAM_ID, VAULT_RENT_EXEMPT_MINIMUM, WALLET_VAULT_INDEX } from '../program.ts';
import { removeSpendingLimitInstruction } from '../spending-limit-instructions.ts';
import { spendingLimitUseInstruction } from '../spending-limit-use.ts';
import { createTokenAccountInstruction } from '../token-account.ts';
import { assertAmount } from '../validate.ts';

export interface WithdrawParams extends TransactionEnvelope {
  readonly multisig: PublicKey;
  readonly owner: PublicKey;
  /** The owner's recovery address (a wallet; for tokens its associated token account is created if missing). */
  readonly destination: PublicKey;
  readonly asset: TransferAsset;
  readonly amount: bigint;
  readonly rentCollector?: PublicKey;
}

/**
 * The amount for "all" or a requested amount, checked against the vault's balance. A SOL vault
 * must end empty or keep at least its rent-exempt minimum, or the chain refuses the transfer.
 */
export function resolveWithdrawAmount(
  requested: bigint | 'all',
  balance: bigint,
  asset: TransferAsset,
): bigint {
  const amount = requested === 'all' ? balance : requested;
  if (requested === 'all' && amount === 0n) {
    throw new WaiaasError('INSUFFICIENT_FUNDS', {
      message: 'The vault holds none of this asset',
      details: {},
    });
  }
  assertAmount(amount);
  if (amount > balance) {
    throw new WaiaasError('INSUFFICIENT_FUNDS', {
      details: { requested: amount.toString(), balance: balance.toString() },
    });
  }
  const rest = balance - amount;
  if (asset === 'SOL' && rest > 0n && rest < VAULT_RENT_EXEMPT_MINIMUM) {
    throw new WaiaasError('INVALID_AMOUNT', {
      message: `Withdraw all, or leave at least ${VAULT_RENT_EXEMPT_MINIMUM} lamports in the vault`,
      details: { requested: amount.toString(), balance: balance.toString() },
    });
  }
  return amount;
}

export function buildWithdraw(params: WithdrawParams): VersionedTransaction {
  assertTransferAsset(params.asset);
  assertAmount(params.amount);
  const limitAsset = limitAssetOf(params.asset);
  const spendingLimit = withdrawLimitAddress(params.multisig, limitAsset);
  const rentCollector = params.rentCollector ?? params.feePayer;
  const ownerLimit = multisig.instructions.multisigAddSpendingLimit({
    multisigPda: params.multisig,
    configAuthority: params.owner,
    rentPayer: params.feePayer,
    spendingLimit,
    createKey: withdrawLimitCreateKey(params.multisig, limitAsset),
    vaultIndex: WALLET_VAULT_INDEX,
    mint: limitMintOf(params.asset),
    amount: params.amount,
    period: Period.OneTime,
    members: [params.owner],
    destinations: [params.destination],
    programId: SQUADS_PROGRAM_ID,
  });
  return compileTransaction(params, [
    ...(params.asset === 'SOL'
      ? []
      : [
          createTokenAccountInstruction({
            payer: params.feePayer,
            owner: params.destination,
            token: params.asset,
          }),
        ]),
    ownerLimit,
    spendingLimitUseInstruction({
      multisig: params.multisig,
      member: params.owner,
      spendingLimit,
      asset: params.asset,
      amount: params.amount,
      destination: params.destination,
    }),
    removeSpendingLimitInstruction({
      multisig: params.multisig,
      owner: params.owner,
      spendingLimit,
      rentCollector,
    }),
  ]);
}
