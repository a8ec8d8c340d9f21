import type { Transaction, VersionedTransaction } from '@solana/web3.js';
import { type Address, addressFromBytes, addressToBytes } from '../core/address.ts';
import { WaiaasError } from '../core/errors.ts';
import { ED25519_SIGNATURE_BYTES, publicKeyObject } from './ed25519.ts';
import { assertSignatureValid } from './signature-check.ts';
import type { OwnerSigner } from './types.ts';

const malformed = (reason: string) =>
  new WaiaasError('VALIDATION_FAILED', { message: 'Malformed transaction', details: { reason } });

/** compact-u16 as Solana encodes lengths: 7 bits per byte, at most 3 bytes. */
const readCompactU16 = (bytes: Uint8Array, offset: number): { value: number; size: number } => {
  let value = 0;
  for (let size = 0; size < 3; size++) {
    const byte = bytes[offset + size];
    if (byte === undefined) throw malformed('truncated length');
    value |= (byte & 0x7f) << (7 * size);
    if ((byte & 0x80) === 0) return { value, size: size + 1 };
  }
  throw malformed('length too long');
};

const writeCompactU16 = (value: number): number[] => {
  const out: number[] = [];
  let rest = value;
  do {
    const byte = rest & 0x7f;
    rest >>= 7;
    out.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return out;
};

/** The accounts that must sign a legacy or v0 message, in signature order. */
export const requiredSigners = (message: Uint8Array): Address[] => {
  const first = message[0];
  if (first === undefined) throw malformed('empty message');
  const versioned = (first & 0x80) !== 0;
  if (versioned && (first & 0x7f) !== 0) throw malformed('unsupported message version');
  const header = versioned ? 1 : 0;
  const required = message[header];
  if (required === undefined) throw malformed('truncated header');
  const { value: keyCount, size } = readCompactU16(message, header + 3);
  const keysStart = header + 3 + size;
  if (required > keyCount || message.length < keysStart + keyCount * 32)
    throw malformed('truncated account keys');
  return Array.from({ length: required }, (_, index) =>
    addressFromBytes(message.subarray(keysStart + index * 32, keysStart + (index + 1) * 32)),
  );
};

/**
 * Signs a serialized transaction message as `signer` and says in which signature slot the result
 * belongs. The signature is verified against the signer's public key before it is returned.
 */
export const signTransactionMessage = async (
  signer: OwnerSigner,
  message: Uint8Array,
): Promise<{ signerIndex: number; signature: Uint8Array }> => {
  const address = await signer.publicKey();
  const signerIndex = requiredSigners(message).indexOf(address);
  if (signerIndex < 0) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'The owner key is not a required signer of this transaction',
      details: { signer: address },
    });
  }
  const signature = await signer.sign(message);
  assertSignatureValid(publicKeyObject(addressToBytes(address)), message, signature, address);
  return { signerIndex, signature };
};

/** Adds the signer's signature to wire-format transaction bytes, leaving the other slots as they are. */
export const signWireTransaction = async (signer: OwnerSigner, wire: Uint8Array): Promise<Uint8Array> => {
  const { value: slots, size } = readCompactU16(wire, 0);
  const messageStart = size + slots * ED25519_SIGNATURE_BYTES;
  const message = wire.subarray(messageStart);
  if (message.length === 0 || requiredSigners(message).length !== slots) throw malformed('signature count');
  const { signerIndex, signature } = await signTransactionMessage(signer, message);
  const signed = new Uint8Array(wire);
  signed.set(signature, size + signerIndex * ED25519_SIGNATURE_BYTES);
  return signed;
};

export const emptySignatureSlots = (message: Uint8Array): Uint8Array => {
  const slots = requiredSigners(message).length;
  const prefix = writeCompactU16(slots);
  const wire = new Uint8Array(prefix.length + slots * ED25519_SIGNATURE_BYTES + message.length);
  wire.set(prefix);
  wire.set(message, prefix.length + slots * ED25519_SIGNATURE_BYTES);
  return wire;
};

const isVersioned = (tx: Transaction | VersionedTransaction): tx is VersionedTransaction => 'version' in tx;

/** Signs a web3.js 1.x `Transaction` or `VersionedTransaction` in place and returns it. */
export const signWeb3Transaction = async <T extends Transaction | VersionedTransaction>(
  signer: OwnerSigner,
  transaction: T,
): Promise<T> => {
  if (isVersioned(transaction)) {
    const { signerIndex, signature } = await signTransactionMessage(signer, transaction.message.serialize());
    transaction.signatures[signerIndex] = signature;
    return transaction;
  }
  // serializeMessage() compiles the message and lays out one signature pair per required signer.
  const { signerIndex, signature } = await signTransactionMessage(signer, transaction.serializeMessage());
  const pair = transaction.signatures[signerIndex];
  if (pair === undefined || pair.publicKey.toBase58() !== (await signer.publicKey())) {
    throw malformed('signature slot missing');
  }
  pair.signature = Buffer.from(signature);
  return transaction;
};
