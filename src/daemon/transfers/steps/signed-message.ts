/**
 * A transaction as the pipeline carries it: the message bytes every signer signs, the signers in
 * signature order, and their signatures as they come in. The wire form is assembled from these bytes
 * directly, so the hot path never re-serialises a web3.js object.
 */
import type { VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { WaiaasError } from '../../../core/errors.ts';
import { requiredSigners } from '../../../keys/sign-transaction.ts';

export interface BuiltTransaction {
  readonly message: Uint8Array;
  /** base58 public keys of the required signers; the fee payer is first. */
  readonly signers: readonly string[];
  readonly signatures: (Uint8Array | undefined)[];
  readonly lastValidBlockHeight: bigint;
  /** Approval tier: the Squads transaction index the proposal takes. */
  readonly transactionIndex: bigint | undefined;
}

const SIGNATURE_BYTES = 64;

export function builtFromMessage(
  message: Uint8Array,
  signers: readonly string[],
  lastValidBlockHeight: bigint,
  transactionIndex?: bigint,
): BuiltTransaction {
  return {
    message,
    signers,
    signatures: signers.map(() => undefined),
    lastValidBlockHeight,
    transactionIndex,
  };
}

export function builtFromVersioned(
  transaction: VersionedTransaction,
  lastValidBlockHeight: bigint,
  transactionIndex?: bigint,
): BuiltTransaction {
  const message = transaction.message.serialize();
  return builtFromMessage(message, requiredSigners(message), lastValidBlockHeight, transactionIndex);
}

export function addSignature(built: BuiltTransaction, signer: string, signature: Uint8Array): void {
  const index = built.signers.indexOf(signer);
  if (index < 0 || signature.length !== SIGNATURE_BYTES) {
    throw new WaiaasError('SIGNATURE_INVALID', { details: { signer, reason: 'not a required signer' } });
  }
  built.signatures[index] = signature;
}

/** The transaction's own signature: the fee payer's, base58. */
export function transactionSignature(built: BuiltTransaction): string {
  const first = built.signatures[0];
  if (first === undefined) throw new WaiaasError('INTERNAL', { message: 'The fee payer has not signed' });
  return bs58.encode(first);
}

/** compact-u16 count, the signatures in order, the message. */
export function wireOf(built: BuiltTransaction): Uint8Array {
  const count = built.signers.length;
  if (count > 127) throw new WaiaasError('INTERNAL', { message: 'Too many signers' });
  const wire = new Uint8Array(1 + count * SIGNATURE_BYTES + built.message.length);
  wire[0] = count;
  built.signatures.forEach((signature, index) => {
    if (signature === undefined) {
      throw new WaiaasError('INTERNAL', { message: `Signature ${index} of the transaction is missing` });
    }
    wire.set(signature, 1 + index * SIGNATURE_BYTES);
  });
  wire.set(built.message, 1 + count * SIGNATURE_BYTES);
  return wire;
}
