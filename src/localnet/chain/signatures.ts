import { createPublicKey, verify } from 'node:crypto';
import type { WireTransaction } from './wire-transaction.ts';

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Whether every signature verifies against its signer key over the message bytes. */
export function signaturesVerify(transaction: WireTransaction): boolean {
  return transaction.signatures.every((signature, index) => {
    const signer = transaction.message.accountKeys[index];
    if (!signer) return false;
    const key = createPublicKey({
      key: Buffer.concat([SPKI_ED25519_PREFIX, signer]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, transaction.messageBytes, key, signature);
  });
}
