/** Step 6: the daemon's fee payer, always account 0, signs the same message bytes last. */
import bs58 from 'bs58';
import { signEd25519 } from '../../../keys/ed25519.ts';
import type { PipelineContext } from '../context.ts';
import type { BuiltTransaction } from './build.ts';

/** Returns the transaction's signature (the fee payer's), base58. */
export function feePayerSign(ctx: PipelineContext, built: BuiltTransaction): string {
  const signature = signEd25519(ctx.feePayer.privateKey, built.message);
  built.transaction.signatures[0] = signature;
  return bs58.encode(signature);
}
