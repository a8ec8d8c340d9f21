import type { PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { WaiaasError } from '../core/errors.ts';
import type { SquadsAccountReader } from './account-reader.ts';
import { proposalAddress, transactionAddress } from './pdas.ts';
import { SQUADS_PROGRAM_ID } from './program.ts';

export type ProposalStatusName =
  | 'Draft'
  | 'Active'
  | 'Rejected'
  | 'Approved'
  | 'Executing'
  | 'Executed'
  | 'Cancelled';

export interface ProposalState {
  readonly address: PublicKey;
  readonly transactionIndex: bigint;
  readonly status: ProposalStatusName;
  /** Unix seconds of the last status change. */
  readonly statusTimestamp: bigint;
  readonly approved: readonly PublicKey[];
  readonly rejected: readonly PublicKey[];
  readonly cancelled: readonly PublicKey[];
}

export interface PendingTransfer {
  /** Null when the vault transaction was closed (after execution, by its rent collector). */
  readonly vaultTransaction: multisig.accounts.VaultTransaction | null;
  /** Null when no proposal exists at this index (never created, or closed). */
  readonly proposal: ProposalState | null;
}

/** The vault transaction and its proposal at `transactionIndex`, in one request. */
export async function readPendingTransfer(
  reader: SquadsAccountReader,
  multisigPda: PublicKey,
  transactionIndex: bigint,
): Promise<PendingTransfer> {
  const transactionKey = transactionAddress(multisigPda, transactionIndex);
  const proposalKey = proposalAddress(multisigPda, transactionIndex);
  let infos: Awaited<ReturnType<SquadsAccountReader['getMultipleAccountsInfo']>>;
  try {
    infos = await reader.getMultipleAccountsInfo([transactionKey, proposalKey], 'confirmed');
  } catch (error) {
    throw new WaiaasError('CHAIN_UNAVAILABLE', {
      message: 'Reading the pending transfer from the chain failed',
      details: { transactionIndex: String(transactionIndex) },
      cause: error,
    });
  }
  const [transactionInfo, proposalInfo] = infos;
  const owned = (info: typeof transactionInfo) => (info?.owner.equals(SQUADS_PROGRAM_ID) ? info : null);
  const vaultTransactionInfo = owned(transactionInfo);
  const proposalAccountInfo = owned(proposalInfo);
  const proposal = proposalAccountInfo
    ? multisig.accounts.Proposal.fromAccountInfo(proposalAccountInfo)[0]
    : null;
  return {
    vaultTransaction: vaultTransactionInfo
      ? multisig.accounts.VaultTransaction.fromAccountInfo(vaultTransactionInfo)[0]
      : null,
    proposal: proposal && {
      address: proposalKey,
      transactionIndex: BigInt(proposal.transactionIndex.toString()),
      status: proposal.status.__kind,
      statusTimestamp: 'timestamp' in proposal.status ? BigInt(proposal.status.timestamp.toString()) : 0n,
      approved: proposal.approved,
      rejected: proposal.rejected,
      cancelled: proposal.cancelled,
    },
  };
}
