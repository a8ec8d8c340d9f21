/**
 * The transfer a vault transaction carries (a SOL system transfer or an SPL transferChecked out of
 * vault 0), and the check that a stored vault transaction carries exactly that and nothing else.
 */
import { createTransferCheckedInstruction } from '@solana/spl-token';
import { PublicKey, SystemProgram, type TransactionInstruction, TransactionMessage } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { WaiaasError } from '../core/errors.ts';
import { assertTransferAsset, assetLabel, type TransferAsset } from './assets.ts';
import { associatedTokenAddress, tokenProgramOf, vaultAddress } from './pdas.ts';
import { WALLET_VAULT_INDEX } from './program.ts';
import { assertAmount, assertNotVault } from './validate.ts';

export interface VaultTransfer {
  readonly asset: TransferAsset;
  readonly amount: bigint;
  /** The recipient's wallet address (for tokens, its associated token account receives). */
  readonly destination: PublicKey;
}

type VaultTransactionAccount = multisig.accounts.VaultTransaction;

export function assertVaultTransfer(transfer: VaultTransfer, vault: PublicKey): void {
  assertTransferAsset(transfer.asset);
  assertAmount(transfer.amount);
  assertNotVault(transfer.destination, vault);
}

export function vaultTransferInstruction(vault: PublicKey, transfer: VaultTransfer): TransactionInstruction {
  const { asset } = transfer;
  if (asset === 'SOL') {
    return SystemProgram.transfer({
      fromPubkey: vault,
      toPubkey: transfer.destination,
      lamports: transfer.amount,
    });
  }
  return createTransferCheckedInstruction(
    associatedTokenAddress(vault, asset),
    asset.mint,
    associatedTokenAddress(transfer.destination, asset),
    vault,
    transfer.amount,
    asset.decimals,
    [],
    tokenProgramOf(asset),
  );
}

/** The inner message, paid by the vault (the program signs for it at execution). */
export const vaultTransferMessage = (vault: PublicKey, transfer: VaultTransfer): TransactionMessage =>
  new TransactionMessage({
    payerKey: vault,
    // Not used: the program executes the message without a blockhash of its own.
    recentBlockhash: PublicKey.default.toBase58(),
    instructions: [vaultTransferInstruction(vault, transfer)],
  });

interface CanonicalMessage {
  numSigners: number;
  numWritableSigners: number;
  numWritableNonSigners: number;
  accountKeys: string[];
  instructions: { programIdIndex: number; accountIndexes: number[]; data: string }[];
  addressTableLookups: number;
}

const canonical = (message: multisig.generated.VaultTransactionMessage): CanonicalMessage => ({
  numSigners: message.numSigners,
  numWritableSigners: message.numWritableSigners,
  numWritableNonSigners: message.numWritableNonSigners,
  accountKeys: message.accountKeys.map((key) => key.toBase58()),
  instructions: message.instructions.map((instruction) => ({
    programIdIndex: instruction.programIdIndex,
    accountIndexes: [...instruction.accountIndexes],
    data: Buffer.from(instruction.data).toString('hex'),
  })),
  addressTableLookups: message.addressTableLookups.length,
});

const expectedMessage = (vault: PublicKey, transfer: VaultTransfer): CanonicalMessage => {
  const bytes = multisig.utils.transactionMessageToMultisigTransactionMessageBytes({
    message: vaultTransferMessage(vault, transfer),
    vaultPda: vault,
  });
  const [decoded] = multisig.types.transactionMessageBeet.deserialize(Buffer.from(bytes));
  return canonical({
    ...decoded,
    instructions: decoded.instructions.map((instruction) => ({
      programIdIndex: instruction.programIdIndex,
      accountIndexes: Uint8Array.from(instruction.accountIndexes),
      data: Uint8Array.from(instruction.data),
    })),
    addressTableLookups: [],
  });
};

/**
 * Refuses unless the stored vault transaction belongs to this wallet's vault 0 and moves exactly
 * `expected`: what the owner approves is what executes, whatever the daemon told the owner.
 */
export function assertVaultTransactionIs(
  account: VaultTransactionAccount,
  multisigPda: PublicKey,
  expected: VaultTransfer,
): void {
  const vault = vaultAddress(multisigPda);
  assertVaultTransfer(expected, vault);
  const stored = canonical(account.message);
  const mismatch =
    !account.multisig.equals(multisigPda) ||
    account.vaultIndex !== WALLET_VAULT_INDEX ||
    account.ephemeralSignerBumps.length !== 0 ||
    JSON.stringify(stored) !== JSON.stringify(expectedMessage(vault, expected));
  if (mismatch) {
    throw new WaiaasError('CONFLICT', {
      message: 'The vault transaction on chain is not the transfer being approved',
      details: {
        transactionIndex: String(account.index),
        expected: {
          asset: assetLabel(expected.asset),
          amount: expected.amount.toString(),
          destination: expected.destination.toBase58(),
        },
      },
    });
  }
}
