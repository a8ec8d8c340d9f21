export type { ProgramAccountsFilter, SquadsAccountReader } from './account-reader.ts';
export {
  type LimitAsset,
  limitMintOf,
  type SpendingLimitSpec,
  spendingLimitSpecsFromPolicy,
  type TokenAsset,
  type TransferAsset,
} from './assets.ts';
export { type ComputeBudget, compileTransaction, type TransactionEnvelope } from './compile.ts';
export { buildCreateWallet, type CreateWalletParams, type WalletCreation } from './create-wallet.ts';
export { chainErrorFrom, chainRejection, squadsErrorName } from './errors.ts';
export { buildFreeze, type OwnerActParams } from './owner-acts/freeze.ts';
export { assertLimitsReplaceable, buildReplaceLimits } from './owner-acts/replace-limits.ts';
export { buildResume, type ResumeParams } from './owner-acts/resume.ts';
export { assertRotatable, buildRotateAgent, type RotateAgentParams } from './owner-acts/rotate-agent.ts';
export {
  type CurrentWalletConfig,
  type TargetWalletConfig,
  walletConfigInstructions,
} from './owner-acts/wallet-config.ts';
export { buildWithdraw, resolveWithdrawAmount, type WithdrawParams } from './owner-acts/withdraw.ts';
export {
  buildOwnerApproveAndExecute,
  type OwnerApproveAndExecuteParams,
  vaultTransactionExecuteInstruction,
} from './owner-approve-and-execute.ts';
export {
  associatedTokenAddress,
  multisigAddress,
  programConfigAddress,
  proposalAddress,
  spendingLimitAddress,
  spendingLimitCreateKey,
  transactionAddress,
  vaultAddress,
} from './pdas.ts';
export {
  AGENT_PERMISSIONS,
  OWNER_PERMISSIONS,
  SOL_DECIMALS,
  SQUADS_PROGRAM_ID,
  WALLET_THRESHOLD,
  WALLET_VAULT_INDEX,
} from './program.ts';
export {
  buildProposalsClose,
  type ProposalsCloseParams,
  proposalCloseInstruction,
  setRentCollectorInstruction,
} from './proposal-close.ts';
export { buildProposalReject, type ProposalRejectParams } from './proposal-reject.ts';
export { type PendingTransfer, type ProposalState, readPendingTransfer } from './read-proposal.ts';
export {
  type ProgramConfigState,
  readMultisig,
  readProgramConfig,
  readSpendingLimits,
  readSpendingLimitsOf,
  readVaultBalances,
  readWallet,
  type TokenBalance,
  type VaultBalances,
  type WalletState,
} from './read-wallet.ts';
export {
  type AgentTransferParams,
  buildAgentTransfer,
  spendingLimitUseInstruction,
} from './spending-limit-use.ts';
export { buildCreateTokenAccountTransaction, createTokenAccountInstruction } from './token-account.ts';
export { assertVaultTransactionIs, type VaultTransfer } from './vault-transfer.ts';
export {
  buildVaultTransferProposal,
  type VaultTransferProposal,
  type VaultTransferProposalParams,
} from './vault-transfer-proposal.ts';
export { type MemberState, type MultisigState, memberOf, type SpendingLimitState } from './wallet-state.ts';
