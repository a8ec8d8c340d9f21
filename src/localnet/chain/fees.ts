import bs58 from 'bs58';
import type { WireMessage } from './wire-transaction.ts';

export const LAMPORTS_PER_SIGNATURE = 5000n;
const COMPUTE_BUDGET_PROGRAM = bs58.decode('ComputeBudget111111111111111111111111111111');
const PRECOMPILES = [
  'Ed25519SigVerify111111111111111111111111111',
  'KeccakSecp256k11111111111111111111111111111',
  'Secp256r1SigVerify1111111111111111111111111',
].map((address) => bs58.decode(address));
const DEFAULT_UNITS_PER_INSTRUCTION = 200_000n;
const MAX_COMPUTE_UNIT_LIMIT = 1_400_000n;
const SET_COMPUTE_UNIT_LIMIT = 2;
const SET_COMPUTE_UNIT_PRICE = 3;

const sameKey = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/**
 * The fee the runtime charges for a message: 5,000 lamports per signature (transaction signatures
 * plus those checked by signature-verify precompiles) plus the priority fee,
 * ceil(compute unit price in micro-lamports × compute unit limit / 1,000,000).
 */
export function feeForMessage(message: WireMessage): bigint {
  let signatures = BigInt(message.numRequiredSignatures);
  let unitPrice = 0n;
  let unitLimit: bigint | null = null;
  let otherInstructions = 0n;
  for (const instruction of message.instructions) {
    const program = message.accountKeys[instruction.programIdIndex];
    if (program === undefined) continue;
    const data = instruction.data;
    if (sameKey(program, COMPUTE_BUDGET_PROGRAM)) {
      const view = new DataView(data.buffer, data.byteOffset, data.length);
      if (data[0] === SET_COMPUTE_UNIT_LIMIT && data.length >= 5) unitLimit = BigInt(view.getUint32(1, true));
      if (data[0] === SET_COMPUTE_UNIT_PRICE && data.length >= 9) unitPrice = view.getBigUint64(1, true);
      continue;
    }
    otherInstructions++;
    if (data.length > 0 && PRECOMPILES.some((precompile) => sameKey(program, precompile))) {
      signatures += BigInt(data[0] ?? 0);
    }
  }
  const limit = unitLimit ?? otherInstructions * DEFAULT_UNITS_PER_INSTRUCTION;
  const cappedLimit = limit > MAX_COMPUTE_UNIT_LIMIT ? MAX_COMPUTE_UNIT_LIMIT : limit;
  const priorityFee = (unitPrice * cappedLimit + 999_999n) / 1_000_000n;
  return signatures * LAMPORTS_PER_SIGNATURE + priorityFee;
}
