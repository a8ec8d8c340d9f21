/**
 * Step 5: the enclave parses the message itself, runs L2 and signs as the agent. The request id is the
 * transfer id, so the delay tier is timed from the enclave's first sight of this transfer.
 */
import { isWaiaasError, type WaiaasError } from '../../../core/errors.ts';
import type { PipelineContext } from '../context.ts';
import { addSignature, type BuiltTransaction } from './signed-message.ts';

export async function enclaveSign(
  ctx: PipelineContext,
  walletId: string,
  requestId: string,
  built: BuiltTransaction,
): Promise<void> {
  const timer = ctx.metrics.enclaveSignSeconds.startTimer();
  const result = await ctx.runtime.signers
    .useFor(walletId, (client) => client.sign(walletId, built.message, { requestId }))
    .catch((error: unknown) => {
      const refused =
        isWaiaasError(error) && error.layer === 'enclave' && error.code !== 'ENCLAVE_UNAVAILABLE';
      timer({ outcome: refused ? 'refused' : 'error' });
      throw error;
    });
  timer({ outcome: 'signed' });
  addSignature(built, result.publicKey, result.signature);
}

/** The enclave's answer was about the signing key, not the transfer: a fresh key may sign it. */
export const isAgentKeyRefusal = (error: unknown): boolean =>
  isWaiaasError(error, 'ENCLAVE_REFUSED') &&
  ['AGENT_NOT_SIGNER', 'AGENT_KEY_RETIRED'].includes(String(error.details.reason));

/** The enclave refused because the delay has not run out by its own clock: when it will sign. */
export const enclaveDelayUntil = (error: unknown): number | undefined => {
  if (!isWaiaasError(error, 'DELAY_NOT_ELAPSED')) return undefined;
  const at = Date.parse(String((error as WaiaasError).details.executeAfter));
  return Number.isFinite(at) ? at : undefined;
};
