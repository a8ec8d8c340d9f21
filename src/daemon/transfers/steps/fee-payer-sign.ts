/** Step 6: the daemon's fee payer, always account 0, signs the same message bytes last. */
import { signEd25519 } from '../../../keys/ed25519.ts';
import type { PipelineContext } from '../context.ts';
import { type BuiltTransaction, transactionSignature } from './signed-message.ts';

/** Returns the transaction's signature (the fee payer's), base58. */
export function feePayerSign(ctx: PipelineContext, built: BuiltTransaction): string {
  built.signatures[0] = signEd25519(ctx.feePayer.privateKey, built.message);
  return transactionSignature(built);
}
