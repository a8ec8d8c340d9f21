import type { PublicKey, TransactionInstruction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { limitMintOf, type SpendingLimitSpec } from './assets.ts';
import { spendingLimitAddress, spendingLimitCreateKey, vaultAddress } from './pdas.ts';
import { Period, SQUADS_PROGRAM_ID, WALLET_VAULT_INDEX } from './program.ts';

const programId = SQUADS_PROGRAM_ID;

/**
 * Who may use the agent's limit and where to: the agent, and the owner so that an owner act can use
 * it from the vault to the vault itself (owner-acts/budget-carry.ts); the policy's destinations plus
 * the vault, or any destination when the policy allows any. Neither gives the agent a new path: the
 * server refuses the vault as a recipient and the enclave signs no transfer to it, and a use by the
 * owner needs the owner key, which as config authority can do more than that anyway.
 */
export function agentLimitShape(params: {
  multisig: PublicKey;
  owner: PublicKey;
  agent: PublicKey;
  limit: Pick<SpendingLimitSpec, 'destinations'>;
}): { members: PublicKey[]; destinations: PublicKey[] } {
  const vault = vaultAddress(params.multisig);
  const destinations = params.limit.destinations;
  return {
    members: [params.agent, params.owner],
    destinations:
      destinations.length === 0 || destinations.some((destination) => destination.equals(vault))
        ? [...destinations]
        : [...destinations, vault],
  };
}

/** Adds the agent's daily limit for one asset (config authority = owner; rent from `rentPayer`). */
export function addAgentSpendingLimitInstruction(params: {
  multisig: PublicKey;
  owner: PublicKey;
  agent: PublicKey;
  rentPayer: PublicKey;
  limit: SpendingLimitSpec;
}): TransactionInstruction {
  const shape = agentLimitShape(params);
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
    members: shape.members,
    destinations: shape.destinations,
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
