import type { PublicKey, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { compileTransaction, type TransactionEnvelope } from './compile.ts';
import { proposalAddress, transactionAddress, vaultAddress } from './pdas.ts';
import { SQUADS_PROGRAM_ID, WALLET_VAULT_INDEX } from './program.ts';
import { assertDistinct, assertTransactionIndex } from './validate.ts';
import { assertVaultTransfer, type VaultTransfer, vaultTransferMessage } from './vault-transfer.ts';

export interface VaultTransferProposalParams extends TransactionEnvelope {
  readonly multisig: PublicKey;
  readonly agent: PublicKey;
  /** The multisig's transactionIndex + 1 at build time (see readMultisig); taken if another proposal lands first. */
  readonly transactionIndex: bigint;
  readonly transfer: VaultTransfer;
  readonly memo?: string;
}

export interface VaultTransferProposal {
  readonly transaction: VersionedTransaction;
  readonly transactionIndex: bigint;
  readonly vaultTransaction: PublicKey;
  readonly proposal: PublicKey;
}

/**
 * The approval tier: the agent creates a vault transaction holding the transfer, opens its proposal
 * and approves it, in one transaction. The fee payer pays fees and rent; the agent signs only as
 * creator and voter. With threshold 2 it cannot execute until the owner approves.
 */
export function buildVaultTransferProposal(params: VaultTransferProposalParams): VaultTransferProposal {
  assertDistinct({ agent: params.agent, 'fee payer': params.feePayer });
  assertTransactionIndex(params.transactionIndex);
  const vault = vaultAddress(params.multisig);
  assertVaultTransfer(params.transfer, vault);
  const common = {
    multisigPda: params.multisig,
    transactionIndex: params.transactionIndex,
    programId: SQUADS_PROGRAM_ID,
  };
  const instructions = [
    multisig.instructions.vaultTransactionCreate({
      ...common,
      creator: params.agent,
      rentPayer: params.feePayer,
      vaultIndex: WALLET_VAULT_INDEX,
      ephemeralSigners: 0,
      transactionMessage: vaultTransferMessage(vault, params.transfer),
      ...(params.memo !== undefined && { memo: params.memo }),
    }),
    multisig.instructions.proposalCreate({ ...common, creator: params.agent, rentPayer: params.feePayer }),
    multisig.instructions.proposalApprove({ ...common, member: params.agent }),
  ];
  return {
    transaction: compileTransaction(params, instructions),
    transactionIndex: params.transactionIndex,
    vaultTransaction: transactionAddress(params.multisig, params.transactionIndex),
    proposal: proposalAddress(params.multisig, params.transactionIndex),
  };
}
