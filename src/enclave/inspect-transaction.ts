/**
 * What the enclave agrees to sign, decided from the message bytes alone (default deny). A message
 * passes only when every top-level instruction is a compute-budget instruction or one of:
 *   - one Squads `spendingLimitUse` from this wallet's multisig, vault and spending limit, the agent as member;
 *   - Squads `vaultTransactionCreate` / `proposalCreate` / `proposalApprove` (each at most once) on this
 *     wallet's multisig with the agent as creator / member, where the vault message moves funds only from
 *     this wallet's vault, in exactly one system transfer or SPL transferChecked.
 * and the agent is a signer but never the fee payer. Amount, asset and destination come from the
 * instruction data and accounts parsed here, never from the host.
 *
 * x402 shapes (DESIGN.md §11), told apart by the message alone, each with its compute budget capped
 * (one unit limit ≤ MAX_X402_UNIT_LIMIT, one unit price ≤ MAX_X402_MICROLAMPORTS, nothing else):
 *   - x402 from the vault: the spendingLimitUse above plus one SPL Memo (no accounts, ≤ 256 bytes),
 *     as the exact scheme's client always adds one; the memo marks it, so the x402 limits apply;
 *   - a float fill: a spendingLimitUse whose destination is one of the wallet's agent keys;
 *   - a float payment: one top-level Token/Token-2022 TransferChecked from the signing agent's own
 *     associated token account (the float), the agent as authority, plus at most one memo;
 *   - a float sweep: the same TransferChecked to the vault's associated token account, no memo.
 */
import bs58 from 'bs58';
import { SOL_ASSET, type SpendPurpose } from '../core/policy.ts';
import { ByteReader, bytesEqual, MalformedBytes } from '../solana/inspect/bytes.ts';
import { decodeComputeBudget } from '../solana/inspect/compute-budget.ts';
import { type CompiledInstruction, type DecodedMessage, decodeMessage } from '../solana/inspect/message.ts';
import {
  COMPUTE_BUDGET_PROGRAM,
  MEMO_PROGRAM,
  SQUADS_PROGRAM,
  SYSTEM_PROGRAM,
  TOKEN_2022_PROGRAM,
  TOKEN_PROGRAM,
} from '../solana/inspect/programs.ts';
import {
  decodeSquadsInstruction,
  PROPOSAL_APPROVE_ACCOUNTS,
  PROPOSAL_CREATE_ACCOUNTS,
  SPENDING_LIMIT_USE_ACCOUNTS,
  type SquadsInstruction,
  VAULT_TRANSACTION_CREATE_ACCOUNTS,
} from '../solana/inspect/squads-instructions.ts';
import {
  decodeTransferChecked,
  MAX_MEMO_BYTES,
  TRANSFER_CHECKED_ACCOUNTS,
  type TransferChecked,
} from '../solana/inspect/token-instructions.ts';
import { decodeVaultMessage, type VaultMessage } from '../solana/inspect/vault-message.ts';
import { type ShapeRefusal, shapeRefusal } from './refusal.ts';

/** A Solana transaction is at most 1232 bytes, so no message we should sign is longer. */
export const MAX_MESSAGE_BYTES = 1232;
const SOL_DECIMALS = 9;
/**
 * Compute-budget caps of x402 shapes. The limit is the maintainers' smart-wallet facilitator default
 * (a spendingLimitUse needs ~20-60k); the price is what their static path accepts at most.
 */
export const MAX_X402_UNIT_LIMIT = 400_000;
export const MAX_X402_MICROLAMPORTS = 5_000_000n;

/** What the enclave knows about one wallet, all derived by itself (see wallet-state.ts). */
export interface SigningScope {
  readonly multisig: Uint8Array;
  readonly vault: Uint8Array;
  readonly agentKeys: readonly Uint8Array[];
  /** The asset whose WAIaaS spending limit lives at `address` under the current policy. */
  spendingLimitAsset(address: Uint8Array): string | undefined;
  /** base58 of an address (memoised: recipients repeat). */
  addressText(address: Uint8Array): string;
  /** The allowlisted wallet owning this associated token account, if any. */
  recipientOfTokenAccount(
    tokenAccount: Uint8Array,
    mint: Uint8Array,
    tokenProgram: Uint8Array,
  ): string | undefined;
  /** The x402 payee or allowlisted wallet owning this associated token account, if any. */
  payeeOfTokenAccount(
    tokenAccount: Uint8Array,
    mint: Uint8Array,
    tokenProgram: Uint8Array,
  ): string | undefined;
  /** `owner`'s associated token account for `mint` under `tokenProgram` (memoised). */
  associatedTokenAccount(owner: Uint8Array, mint: Uint8Array, tokenProgram: Uint8Array): Uint8Array;
}

/** What a signature is for: a SpendPurpose, or returning the float to the vault (always allowed). */
export type SignedPurpose = SpendPurpose | 'float-sweep';

export type SquadsAction = SquadsInstruction['kind'];

export interface InspectedTransfer {
  /** `agent-token`: a TransferChecked of the Agent Key's own tokens (the float). */
  readonly route: 'spending-limit' | 'vault-transaction' | 'agent-token';
  /** Always set by the inspection; `transfer` when absent (a transfer echoed over the protocol). */
  readonly purpose?: SignedPurpose;
  /** "SOL" or the base58 mint. */
  readonly asset: string;
  readonly amount: bigint;
  /** The account credited: the recipient wallet, or a token account inside a vault message. */
  readonly destination: Uint8Array;
  /** The wallet receiving the funds, when known. */
  readonly recipient: string | undefined;
}

export interface Inspection {
  readonly ok: true;
  /** Index into `scope.agentKeys` of the key that must sign. */
  readonly signerIndex: number;
  readonly actions: readonly SquadsAction[];
  readonly transfer: InspectedTransfer | undefined;
}

const isProgram = (key: Uint8Array, program: { bytes: Uint8Array }) => bytesEqual(key, program.bytes);

const findAgentSigner = (message: DecodedMessage, scope: SigningScope): number | ShapeRefusal => {
  let signerIndex = -1;
  for (let keyIndex = 0; keyIndex < scope.agentKeys.length; keyIndex++) {
    const agent = scope.agentKeys[keyIndex]!;
    for (let index = 0; index < message.accountKeys.length; index++) {
      if (!bytesEqual(message.accountKeys[index]!, agent)) continue;
      if (index === 0) return shapeRefusal('AGENT_IS_FEE_PAYER', 'the agent key is the fee payer');
      if (index >= message.numRequiredSignatures) break;
      if (signerIndex !== -1) return shapeRefusal('AMBIGUOUS_SIGNER', 'more than one agent key signs');
      signerIndex = keyIndex;
    }
  }
  if (signerIndex === -1)
    return shapeRefusal('AGENT_NOT_SIGNER', 'no agent key of this wallet signs the message');
  return signerIndex;
};

const inspectVaultMessage = (bytes: Uint8Array, scope: SigningScope): InspectedTransfer | ShapeRefusal => {
  let message: VaultMessage;
  try {
    message = decodeVaultMessage(bytes);
  } catch (error) {
    if (error instanceof MalformedBytes) return shapeRefusal('MALFORMED_INSTRUCTION', error.message);
    throw error;
  }
  if (message.addressTableLookupCount > 0) {
    return shapeRefusal('ADDRESS_LOOKUP_UNSUPPORTED', 'the vault message uses address lookup tables');
  }
  if (message.numSigners === 0 || !bytesEqual(message.accountKeys[0]!, scope.vault)) {
    return shapeRefusal('WRONG_VAULT', 'the vault message is not signed by this wallet’s vault');
  }
  // Any other signer would let the vault message move funds that are not the vault's.
  if (message.numSigners !== 1)
    return shapeRefusal('FOREIGN_SOURCE', 'another account signs in the vault message');
  const transfers: InspectedTransfer[] = [];
  let transferLike = 0;
  for (const instruction of message.instructions) {
    const program = message.accountKeys[instruction.programIdIndex]!;
    const account = (slot: number) => message.accountKeys[instruction.accountIndexes[slot]!]!;
    const data = instruction.data;
    if (isProgram(program, SYSTEM_PROGRAM)) {
      const kind = data.length >= 4 ? new ByteReader(data).u32() : -1;
      if (kind === 2 && data.length === 12 && instruction.accountIndexes.length === 2) {
        if (!bytesEqual(account(0), scope.vault))
          return shapeRefusal('FOREIGN_SOURCE', 'a transfer not from the vault');
        const destination = account(1);
        transfers.push({
          route: 'vault-transaction',
          purpose: 'transfer',
          asset: SOL_ASSET,
          amount: new ByteReader(data, 4).u64(),
          destination,
          recipient: scope.addressText(destination),
        });
        continue;
      }
      // Transfer (malformed), TransferWithSeed, CreateAccount… all move lamports: refused by name.
      if (kind === 2 || kind === 11 || kind === 0 || kind === 3) transferLike++;
      else return shapeRefusal('UNSUPPORTED_INSTRUCTION', `system instruction ${kind} in the vault message`);
      continue;
    }
    if (isProgram(program, TOKEN_PROGRAM) || isProgram(program, TOKEN_2022_PROGRAM)) {
      if (data[0] === 12 && data.length === 10 && instruction.accountIndexes.length === 4) {
        if (!bytesEqual(account(3), scope.vault))
          return shapeRefusal('FOREIGN_SOURCE', 'a token transfer not authorised by the vault');
        const mint = account(1);
        const destination = account(2);
        transfers.push({
          route: 'vault-transaction',
          purpose: 'transfer',
          asset: bs58.encode(mint),
          amount: new ByteReader(data, 1).u64(),
          destination,
          recipient: scope.recipientOfTokenAccount(destination, mint, program),
        });
        continue;
      }
      // Transfer without mint, Approve, Burn, CloseAccount… : anything else with the vault's tokens.
      if (data[0] === 3 || data[0] === 12 || data[0] === 4 || data[0] === 13) transferLike++;
      else
        return shapeRefusal(
          'UNSUPPORTED_INSTRUCTION',
          `token instruction ${data[0] ?? 'empty'} in the vault message`,
        );
      continue;
    }
    return shapeRefusal('UNKNOWN_PROGRAM', `program ${bs58.encode(program)} in the vault message`);
  }
  if (transfers.length + transferLike > 1) {
    return shapeRefusal('HIDDEN_TRANSFER', 'the vault message moves funds more than once');
  }
  if (transferLike > 0) {
    return shapeRefusal(
      'UNSUPPORTED_INSTRUCTION',
      'only system transfer and token transferChecked may move vault funds',
    );
  }
  const transfer = transfers[0];
  if (transfer === undefined) return shapeRefusal('NO_TRANSFER', 'the vault message moves nothing');
  return transfer;
};

const inspectSpendingLimitUse = (
  instruction: CompiledInstruction,
  decoded: Extract<SquadsInstruction, { kind: 'spendingLimitUse' }>,
  account: (slot: number) => Uint8Array,
  agent: Uint8Array,
  scope: SigningScope,
): InspectedTransfer | ShapeRefusal => {
  const slots = SPENDING_LIMIT_USE_ACCOUNTS;
  if (instruction.accountIndexes.length !== slots.count)
    return shapeRefusal('WRONG_ACCOUNTS', 'spendingLimitUse account count');
  if (!bytesEqual(account(slots.multisig), scope.multisig))
    return shapeRefusal('WRONG_MULTISIG', 'spendingLimitUse');
  if (!bytesEqual(account(slots.member), agent))
    return shapeRefusal('WRONG_MEMBER', 'spendingLimitUse member is not the agent');
  const asset = scope.spendingLimitAsset(account(slots.spendingLimit));
  if (asset === undefined)
    return shapeRefusal('WRONG_SPENDING_LIMIT', 'not this wallet’s spending limit of a policy asset');
  if (!bytesEqual(account(slots.vault), scope.vault)) return shapeRefusal('WRONG_VAULT', 'spendingLimitUse');
  const none = SQUADS_PROGRAM.bytes; // Anchor's "None" for an optional account
  if (asset === SOL_ASSET) {
    if (!bytesEqual(account(slots.systemProgram), SYSTEM_PROGRAM.bytes))
      return shapeRefusal('WRONG_ACCOUNTS', 'SOL needs the system program');
    if (!bytesEqual(account(slots.mint), none))
      return shapeRefusal('WRONG_MINT', 'a mint on a SOL spending limit');
    if (decoded.decimals !== SOL_DECIMALS) return shapeRefusal('WRONG_DECIMALS', 'SOL has 9 decimals');
  } else {
    if (!bytesEqual(account(slots.mint), bs58.decode(asset)))
      return shapeRefusal('WRONG_MINT', 'mint differs from the spending limit’s');
    const tokenProgram = account(slots.tokenProgram);
    if (!isProgram(tokenProgram, TOKEN_PROGRAM) && !isProgram(tokenProgram, TOKEN_2022_PROGRAM)) {
      return shapeRefusal('WRONG_ACCOUNTS', 'token program');
    }
    if (
      bytesEqual(account(slots.vaultTokenAccount), none) ||
      bytesEqual(account(slots.destinationTokenAccount), none)
    ) {
      return shapeRefusal('WRONG_ACCOUNTS', 'token accounts missing');
    }
  }
  const destination = account(slots.destination);
  // Moves nothing, but uses up the day's budget. Only the owner does it, to carry a period's spending
  // into a re-created limit (src/squads/owner-acts/budget-carry.ts); never the agent.
  if (bytesEqual(destination, scope.vault))
    return shapeRefusal('TO_OWN_VAULT', 'spendingLimitUse to the wallet’s own vault');
  const toAgent = scope.agentKeys.some((key) => bytesEqual(key, destination));
  return {
    route: 'spending-limit',
    purpose: toAgent ? 'float-fill' : 'transfer',
    asset,
    amount: decoded.amount,
    destination,
    recipient: scope.addressText(destination),
  };
};

/** A TransferChecked of the agent's float: a payment to a payee, or the sweep back to the vault. */
const inspectAgentTokenTransfer = (
  instruction: CompiledInstruction,
  decoded: TransferChecked,
  program: Uint8Array,
  account: (slot: number) => Uint8Array,
  agent: Uint8Array,
  scope: SigningScope,
): InspectedTransfer | ShapeRefusal => {
  const slots = TRANSFER_CHECKED_ACCOUNTS;
  // More accounts would be multisig co-signers of a token account that is not the agent's.
  if (instruction.accountIndexes.length !== slots.count)
    return shapeRefusal('WRONG_ACCOUNTS', 'transferChecked account count');
  if (!bytesEqual(account(slots.authority), agent))
    return shapeRefusal('WRONG_MEMBER', 'transferChecked authority is not the signing agent');
  const mint = account(slots.mint);
  const float = scope.associatedTokenAccount(agent, mint, program);
  if (!bytesEqual(account(slots.source), float))
    return shapeRefusal('FOREIGN_SOURCE', 'transferChecked not from the agent float');
  const destination = account(slots.destination);
  if (bytesEqual(destination, float)) return shapeRefusal('WRONG_ACCOUNTS', 'transferChecked to itself');
  const sweep = bytesEqual(destination, scope.associatedTokenAccount(scope.vault, mint, program));
  return {
    route: 'agent-token',
    purpose: sweep ? 'float-sweep' : 'float-payment',
    asset: bs58.encode(mint),
    amount: decoded.amount,
    destination,
    recipient: sweep ? scope.addressText(scope.vault) : scope.payeeOfTokenAccount(destination, mint, program),
  };
};

const inspectProposalStep = (
  instruction: CompiledInstruction,
  decoded: SquadsInstruction,
  account: (slot: number) => Uint8Array,
  agent: Uint8Array,
  scope: SigningScope,
): ShapeRefusal | undefined => {
  const isAgentKey = (key: Uint8Array) => scope.agentKeys.some((candidate) => bytesEqual(candidate, key));
  const expected =
    decoded.kind === 'vaultTransactionCreate'
      ? VAULT_TRANSACTION_CREATE_ACCOUNTS
      : decoded.kind === 'proposalCreate'
        ? PROPOSAL_CREATE_ACCOUNTS
        : PROPOSAL_APPROVE_ACCOUNTS;
  if (instruction.accountIndexes.length !== expected.count)
    return shapeRefusal('WRONG_ACCOUNTS', `${decoded.kind} account count`);
  if (!bytesEqual(account(0), scope.multisig)) return shapeRefusal('WRONG_MULTISIG', decoded.kind);
  if (decoded.kind === 'proposalApprove') {
    if (!bytesEqual(account(PROPOSAL_APPROVE_ACCOUNTS.member), agent))
      return shapeRefusal('WRONG_MEMBER', decoded.kind);
    return undefined;
  }
  // vaultTransactionCreate and proposalCreate share creator / rentPayer / systemProgram slots.
  if (!bytesEqual(account(PROPOSAL_CREATE_ACCOUNTS.creator), agent))
    return shapeRefusal('WRONG_MEMBER', `${decoded.kind} creator`);
  if (isAgentKey(account(PROPOSAL_CREATE_ACCOUNTS.rentPayer)))
    return shapeRefusal('AGENT_PAYS_RENT', decoded.kind);
  if (!bytesEqual(account(PROPOSAL_CREATE_ACCOUNTS.systemProgram), SYSTEM_PROGRAM.bytes)) {
    return shapeRefusal('WRONG_ACCOUNTS', `${decoded.kind} system program`);
  }
  if (decoded.kind === 'vaultTransactionCreate') {
    if (decoded.vaultIndex !== 0) return shapeRefusal('WRONG_VAULT', `vault index ${decoded.vaultIndex}`);
    if (decoded.ephemeralSigners !== 0)
      return shapeRefusal('EPHEMERAL_SIGNERS', 'ephemeral signers can act outside the vault');
  }
  return undefined;
};

export const inspectTransaction = (bytes: Uint8Array, scope: SigningScope): Inspection | ShapeRefusal => {
  if (bytes.length > MAX_MESSAGE_BYTES) return shapeRefusal('MESSAGE_TOO_LARGE', `${bytes.length} bytes`);
  let message: DecodedMessage;
  try {
    message = decodeMessage(bytes);
  } catch (error) {
    if (error instanceof MalformedBytes) return shapeRefusal('MALFORMED_MESSAGE', error.message);
    throw error;
  }
  if (message.addressTableLookups.length > 0) {
    return shapeRefusal(
      'ADDRESS_LOOKUP_UNSUPPORTED',
      'address lookup tables are not resolved by the enclave',
    );
  }
  const signerIndex = findAgentSigner(message, scope);
  if (typeof signerIndex !== 'number') return signerIndex;
  const agent = scope.agentKeys[signerIndex]!;

  const actions: SquadsAction[] = [];
  let transfer: InspectedTransfer | undefined;
  let memos = 0;
  let budgetWithinX402Caps = true;
  for (const instruction of message.instructions) {
    const program = message.accountKeys[instruction.programIdIndex]!;
    if (isProgram(program, COMPUTE_BUDGET_PROGRAM)) {
      const budget = decodeComputeBudget(instruction);
      if (budget === undefined) {
        return shapeRefusal('UNSUPPORTED_INSTRUCTION', 'compute-budget instruction');
      }
      if (!withinX402Caps(budget)) budgetWithinX402Caps = false;
      continue;
    }
    if (isProgram(program, MEMO_PROGRAM)) {
      // A memo with accounts would make them co-signers; a long one is not an x402 memo.
      if (instruction.accountIndexes.length !== 0 || instruction.data.length > MAX_MEMO_BYTES)
        return shapeRefusal('MALFORMED_INSTRUCTION', 'memo with accounts or over 256 bytes');
      if (++memos > 1) return shapeRefusal('DUPLICATE_INSTRUCTION', 'more than one memo');
      continue;
    }
    if (isProgram(program, TOKEN_PROGRAM) || isProgram(program, TOKEN_2022_PROGRAM)) {
      const decoded = decodeTransferChecked(instruction);
      if (decoded === undefined)
        return shapeRefusal('UNSUPPORTED_INSTRUCTION', 'a token instruction other than transferChecked');
      if (transfer !== undefined) return shapeRefusal('MULTIPLE_TRANSFERS', 'one transfer per message');
      if (actions.length > 0)
        return shapeRefusal('MIXED_ACTIONS', 'a float transfer together with Squads instructions');
      const account = (slot: number) => message.accountKeys[instruction.accountIndexes[slot]!]!;
      const result = inspectAgentTokenTransfer(instruction, decoded, program, account, agent, scope);
      if ('ok' in result) return result;
      transfer = result;
      continue;
    }
    if (!isProgram(program, SQUADS_PROGRAM))
      return shapeRefusal('UNKNOWN_PROGRAM', `program ${bs58.encode(program)}`);
    let decoded: SquadsInstruction | undefined;
    try {
      decoded = decodeSquadsInstruction(instruction.data);
    } catch (error) {
      if (error instanceof MalformedBytes) return shapeRefusal('MALFORMED_INSTRUCTION', error.message);
      throw error;
    }
    if (decoded === undefined)
      return shapeRefusal('UNSUPPORTED_INSTRUCTION', 'a Squads instruction an agent may not sign');
    const account = (slot: number) => message.accountKeys[instruction.accountIndexes[slot]!]!;
    if (transfer?.route === 'agent-token')
      return shapeRefusal('MIXED_ACTIONS', 'a float transfer together with Squads instructions');
    if (decoded.kind === 'spendingLimitUse') {
      if (actions.includes('spendingLimitUse'))
        return shapeRefusal('MULTIPLE_TRANSFERS', 'one spendingLimitUse per message');
      const result = inspectSpendingLimitUse(instruction, decoded, account, agent, scope);
      if ('ok' in result) return result;
      transfer = result;
    } else {
      if (actions.includes(decoded.kind)) return shapeRefusal('DUPLICATE_INSTRUCTION', decoded.kind);
      const refusal = inspectProposalStep(instruction, decoded, account, agent, scope);
      if (refusal) return refusal;
      if (decoded.kind === 'vaultTransactionCreate') {
        const result = inspectVaultMessage(decoded.transactionMessage, scope);
        if ('ok' in result) return result;
        transfer = result;
      }
    }
    actions.push(decoded.kind);
  }
  if (actions.length === 0 && transfer === undefined)
    return shapeRefusal('NO_ACTION', 'nothing but compute-budget instructions');
  if (actions.includes('spendingLimitUse') && actions.length > 1) {
    return shapeRefusal('MIXED_ACTIONS', 'spendingLimitUse together with proposal instructions');
  }
  if (memos > 0) {
    // A memo rides only with a payment to a payee: from the vault (then it is x402) or the float.
    if (transfer === undefined || transfer.route === 'vault-transaction')
      return shapeRefusal('MIXED_ACTIONS', 'a memo together with proposal instructions');
    if (transfer.purpose === 'float-fill' || transfer.purpose === 'float-sweep')
      return shapeRefusal('UNSUPPORTED_INSTRUCTION', `a memo on a ${transfer.purpose}`);
    if ((transfer.purpose ?? 'transfer') === 'transfer') transfer = { ...transfer, purpose: 'x402' };
  }
  if (transfer !== undefined && (transfer.purpose ?? 'transfer') !== 'transfer' && !budgetWithinX402Caps) {
    return shapeRefusal(
      'COMPUTE_BUDGET_TOO_HIGH',
      `x402 and float messages: unit limit ≤ ${MAX_X402_UNIT_LIMIT}, price ≤ ${MAX_X402_MICROLAMPORTS} µlamports/CU`,
    );
  }
  return { ok: true, signerIndex, actions, transfer };
};

/** Only a unit limit and a unit price, each within the caps, may ride with an x402 or float message. */
const withinX402Caps = (budget: NonNullable<ReturnType<typeof decodeComputeBudget>>): boolean =>
  (budget.kind === 'setComputeUnitLimit' && budget.units <= MAX_X402_UNIT_LIMIT) ||
  (budget.kind === 'setComputeUnitPrice' && budget.microLamports <= MAX_X402_MICROLAMPORTS);
