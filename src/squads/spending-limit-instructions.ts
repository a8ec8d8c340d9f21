import type { PublicKey, TransactionInstruction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { limitMintOf, type SpendingLimitSpec } from './assets.ts';
import { spendingLimitAddress, spendingLimitCreateKey } from './pdas.ts';
import { Period, SQUADS_PROGRAM_ID, WALLET_VAULT_INDEX } from './program.ts';

const programId = SQUADS_PROGRAM_ID;

/** Adds the agent's daily limit for one asset (config authority = owner; rent from `rentPayer`). */
export function addAgentSpendingLimitInstruction(params: {
  multisig: PublicKey;
  owner: PublicKey;
  agent: PublicKey;
  rentPayer: PublicKey;
  limit: SpendingLimitSpec;
}): TransactionInstruction {
  return multisig.instructions.multisigAddSpendingLimit({
    multisigPda: params.multisig,
    configAuthority: params.owner,
    rentPayer: params.rentPayer,
    spendingLimit: spendingLimitAddress(params.multisig, params.limit.asset),
    createKey: spendingLimitCreateKey(params.multisig, params.limit.asset),
    vaultIndex: WALLET_VAULT_INDEX,
    mint: limitMintOf(params.limit.asset),
    amount: params.limit.amount,
    period: Period.Day,
    members: [params.agent],
    destinations: [...params.limit.destinations],
    programId,
  });
}

export function removeSpendingLimitInstruction(params: {
  multisig: PublicKey;
  owner: PublicKey;
  spendingLimit: PublicKey;
  rentCollector: PublicKey;
}): TransactionInstruction {
  return multisig.instructions.multisigRemoveSpendingLimit({
    multisigPda: params.multisig,
    configAuthority: params.owner,
    spendingLimit: params.spendingLimit,
    rentCollector: params.rentCollector,
    programId,
  });
}
