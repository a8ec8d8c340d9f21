import { Account, type LiteSvm } from 'litesvm/dist/internal.js';
import { faucetKey, type LocalnetKey } from '../localnet-keys.ts';

/** What the faucet holds after (re)funding: 1,000,000 SOL, below 2^53 so JSON numbers stay exact. */
export const FAUCET_FLOAT = 1_000_000_000_000_000n;

const SYSTEM_PROGRAM = new Uint8Array(32);
const SYSTEM_TRANSFER = 2;

/** A signed legacy transaction with one System transfer from `from` (fee payer) to `to`. */
export function encodeSignedTransfer(
  from: LocalnetKey,
  to: Uint8Array,
  lamports: bigint,
  recentBlockhash: Uint8Array,
): Uint8Array {
  const data = Buffer.alloc(12);
  data.writeUInt32LE(SYSTEM_TRANSFER, 0);
  data.writeBigUInt64LE(lamports, 4);
  const message = Buffer.concat([
    Buffer.from([1, 0, 1, 3]),
    from.publicKey,
    to,
    SYSTEM_PROGRAM,
    recentBlockhash,
    Buffer.from([1, 2, 2, 0, 1, data.length]),
    data,
  ]);
  return Buffer.concat([Buffer.from([1]), from.sign(message), message]);
}

export function fundFaucet(svm: LiteSvm, lamports: bigint = FAUCET_FLOAT): void {
  svm.setAccount(faucetKey.publicKey, new Account(lamports, new Uint8Array(0), SYSTEM_PROGRAM, false, 0n));
}
