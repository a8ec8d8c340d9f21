/**
 * Chain refusals as WaiaasErrors. A failed transaction arrives as the RPC's error JSON
 * (`{ InstructionError: [index, { Custom: 6026 }] }`, from a signature status or a simulation),
 * or as web3.js's SendTransactionError whose message carries the same facts as text. Squads custom
 * errors are named from the SDK's generated table, so `details.programError` reads
 * `SpendingLimitExceeded` rather than `0x178a`.
 */
import type { PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { WaiaasError } from '../core/errors.ts';
import { SQUADS_PROGRAM_ID } from './program.ts';

/** Anchor's own errors that the Squads program raises through its account constraints. */
const ANCHOR_ERRORS: Readonly<Record<number, string>> = {
  100: 'InstructionMissing',
  101: 'InstructionFallbackNotFound',
  102: 'InstructionDidNotDeserialize',
  2000: 'ConstraintMut',
  2001: 'ConstraintHasOne',
  2002: 'ConstraintSigner',
  2003: 'ConstraintRaw',
  2006: 'ConstraintSeeds',
  2012: 'ConstraintAddress',
  3001: 'AccountDiscriminatorNotFound',
  3002: 'AccountDiscriminatorMismatch',
  3003: 'AccountDidNotDeserialize',
  3007: 'AccountOwnedByWrongProgram',
  3010: 'AccountNotSigner',
  3012: 'AccountNotInitialized',
};

/** The program's name for a custom error code, if it is a Squads or Anchor error. */
export function squadsErrorName(code: number): string | undefined {
  if (code >= 6000) return multisig.generated.errorFromCode(code)?.name.replace(/Error$/, '');
  return ANCHOR_ERRORS[code];
}

const MAX_LOG_LINES = 30;
const tail = (logs: readonly string[] | null | undefined): string[] =>
  logs ? logs.slice(-MAX_LOG_LINES).map((line) => line.slice(0, 300)) : [];

const TOKEN_PROGRAMS = new Set([
  'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA',
  'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb',
]);
const SYSTEM_PROGRAM = '11111111111111111111111111111111';

/** SPL Token errors a transfer out of the vault can meet (the program delegates the decimals check to it). */
const TOKEN_ERRORS: Readonly<Record<number, string>> = {
  1: 'InsufficientFunds',
  3: 'MintMismatch',
  4: 'OwnerMismatch',
  17: 'AccountFrozen',
  18: 'MintDecimalsMismatch',
};
const SYSTEM_ERRORS: Readonly<Record<number, string>> = {
  0: 'AccountAlreadyInUse',
  1: 'ResultWithNegativeLamports',
};

type Origin = 'squads' | 'token' | 'system' | 'other';

/** The program that raised the custom error: the first one whose failure the logs record. */
function originOf(logs: readonly string[], code: number): Origin {
  for (const line of logs) {
    const failed = /^Program (\w+) failed: custom program error: 0x/.exec(line);
    if (!failed) continue;
    const program = failed[1] ?? '';
    if (program === SQUADS_PROGRAM_ID.toBase58()) return 'squads';
    if (TOKEN_PROGRAMS.has(program)) return 'token';
    return program === SYSTEM_PROGRAM ? 'system' : 'other';
  }
  // Without logs, only the Squads program raises Anchor-range codes in our transactions.
  return code >= 100 && squadsErrorName(code) !== undefined ? 'squads' : 'other';
}

const nameIn = (origin: Origin, code: number): string | undefined =>
  origin === 'squads'
    ? squadsErrorName(code)
    : origin === 'token'
      ? TOKEN_ERRORS[code]
      : origin === 'system'
        ? SYSTEM_ERRORS[code]
        : undefined;

function fromCustomError(instructionIndex: number, code: number, logs: string[]): WaiaasError {
  const origin = originOf(logs, code);
  const name = nameIn(origin, code);
  const details = {
    program: origin,
    ...(name !== undefined && { programError: name }),
    code,
    instructionIndex,
    logs,
  };
  if (code === 1 && (origin === 'token' || origin === 'system')) {
    return new WaiaasError('INSUFFICIENT_FUNDS', {
      message: 'The vault does not hold enough for this transfer',
      layer: 'chain',
      details,
    });
  }
  return new WaiaasError('CHAIN_REJECTED', {
    message: name ? `The chain refused the transaction: ${name}` : undefined,
    layer: 'chain',
    details,
  });
}

export interface RejectionContext {
  /** The failed transaction's account keys, to name the account a rent error is about. */
  readonly accountKeys?: readonly PublicKey[];
  /** The wallet vault: left below its rent minimum means it lacks funds. */
  readonly vault?: PublicKey;
}

/**
 * A SOL transfer that would leave an account holding less than its rent-exempt minimum (890,880
 * lamports for a plain address): the vault, when it lacks funds; a recipient, when the amount is
 * too small to open a new address.
 */
function belowRentMinimum(
  err: { InsufficientFundsForRent: { account_index: number } },
  logs: string[],
  context: RejectionContext,
): WaiaasError {
  const account = context.accountKeys?.[err.InsufficientFundsForRent.account_index];
  const details = { transactionError: err, ...(account && { account: account.toBase58() }), logs };
  if (account && context.vault && !account.equals(context.vault)) {
    return new WaiaasError('INVALID_AMOUNT', {
      message:
        'The recipient would hold less than the rent-exempt minimum; send at least 890880 lamports to a new address',
      layer: 'chain',
      details,
    });
  }
  if (account && context.vault?.equals(account)) {
    return new WaiaasError('INSUFFICIENT_FUNDS', {
      message:
        'The vault would be left below its rent-exempt minimum; withdraw all or leave at least 890880 lamports',
      layer: 'chain',
      details,
    });
  }
  return new WaiaasError('CHAIN_REJECTED', {
    message: 'An account would be left below its rent-exempt minimum',
    layer: 'chain',
    details,
  });
}

/**
 * The error for a transaction the chain processed and failed, or refused in preflight.
 * `err` is the RPC's TransactionError JSON; `logs` the program logs when known.
 */
export function chainRejection(
  err: unknown,
  logs?: readonly string[] | null,
  context: RejectionContext = {},
): WaiaasError {
  const lines = tail(logs);
  if (typeof err === 'object' && err !== null && 'InstructionError' in err) {
    const [instructionIndex, inner] = (err as { InstructionError: [number, unknown] }).InstructionError;
    if (typeof inner === 'object' && inner !== null && 'Custom' in inner) {
      return fromCustomError(instructionIndex, Number((inner as { Custom: number }).Custom), lines);
    }
    return new WaiaasError('CHAIN_REJECTED', {
      layer: 'chain',
      details: { instructionIndex, instructionError: inner, logs: lines },
    });
  }
  if (typeof err === 'object' && err !== null && 'InsufficientFundsForRent' in err) {
    return belowRentMinimum(err as { InsufficientFundsForRent: { account_index: number } }, lines, context);
  }
  return new WaiaasError('CHAIN_REJECTED', {
    layer: 'chain',
    details: { transactionError: err, logs: lines },
  });
}

const INSTRUCTION_FAILURE = /Error processing Instruction (\d+): custom program error: 0x([0-9a-f]+)/i;

/**
 * The error for whatever sending or confirming threw: a SendTransactionError (preflight refusal,
 * parsed from its message and logs), an RPC error, or a transport failure (CHAIN_UNAVAILABLE).
 */
export function chainErrorFrom(error: unknown): WaiaasError {
  if (error instanceof WaiaasError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const logs = (error as { logs?: unknown } | null)?.logs;
  const lines = Array.isArray(logs) ? logs.filter((line): line is string => typeof line === 'string') : [];
  const failure = INSTRUCTION_FAILURE.exec(message);
  if (failure) {
    return chainRejection(
      { InstructionError: [Number(failure[1]), { Custom: Number.parseInt(failure[2] ?? '', 16) }] },
      lines,
    );
  }
  if (/simulation failed|transaction .*failed|blockhash not found/i.test(message)) {
    return new WaiaasError('CHAIN_REJECTED', {
      layer: 'chain',
      details: { reason: message.slice(0, 300), logs: tail(lines) },
      cause: error,
    });
  }
  return new WaiaasError('CHAIN_UNAVAILABLE', { details: { reason: message.slice(0, 300) }, cause: error });
}
