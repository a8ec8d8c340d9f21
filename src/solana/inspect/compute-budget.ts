/**
 * Compute-budget instructions: they set limits and the priority fee, which the fee payer pays. They
 * take no accounts and move no funds, so the enclave may sign messages that carry them.
 */
import { ByteReader } from './bytes.ts';
import type { CompiledInstruction } from './message.ts';

export type ComputeBudgetInstruction =
  | { kind: 'requestHeapFrame'; bytes: number }
  | { kind: 'setComputeUnitLimit'; units: number }
  | { kind: 'setComputeUnitPrice'; microLamports: bigint }
  | { kind: 'setLoadedAccountsDataSizeLimit'; bytes: number };

/** The instruction, or undefined for anything else (the deprecated RequestUnits, extra bytes, accounts). */
export const decodeComputeBudget = (
  instruction: CompiledInstruction,
): ComputeBudgetInstruction | undefined => {
  if (instruction.accountIndexes.length !== 0) return undefined;
  const data = instruction.data;
  const reader = new ByteReader(data, 1);
  let decoded: ComputeBudgetInstruction | undefined;
  if (data[0] === 1 && data.length === 5) decoded = { kind: 'requestHeapFrame', bytes: reader.u32() };
  else if (data[0] === 2 && data.length === 5) decoded = { kind: 'setComputeUnitLimit', units: reader.u32() };
  else if (data[0] === 3 && data.length === 9)
    decoded = { kind: 'setComputeUnitPrice', microLamports: reader.u64() };
  else if (data[0] === 4 && data.length === 5)
    decoded = { kind: 'setLoadedAccountsDataSizeLimit', bytes: reader.u32() };
  return decoded;
};
