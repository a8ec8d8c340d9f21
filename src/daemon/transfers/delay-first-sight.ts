/**
 * A delay-tier transfer is shown to the enclave as soon as it is accepted: the enclave times the
 * delay from its own first sight of the transfer id, by its own clock, and refuses to sign it earlier
 * (DELAY_NOT_ELAPSED). That refusal is the expected answer here. Any other refusal ends the transfer
 * now rather than after the wait; an enclave that is down sees it when the worker comes back to it.
 */

import { isWaiaasError } from '../../core/errors.ts';
import type { TransferRecord } from '../../store/transfers.ts';
import { nowBig, type PipelineContext } from './context.ts';
import { buildAgentSpend } from './steps/build.ts';
import { enclaveDelayUntil, enclaveSign } from './steps/enclave-sign.ts';
import { transitionRecorded } from './steps/record-event.ts';
import { storedError } from './stored-error.ts';
import { isHalt } from './types.ts';
import type { WalletContext } from './wallet-context.ts';

export async function showDelayedToEnclave(
  ctx: PipelineContext,
  record: TransferRecord,
  wallet: WalletContext,
): Promise<TransferRecord> {
  if (wallet.agent === undefined) return record;
  try {
    const asset = await ctx.tokens.transferAsset(ctx.chain, record.asset);
    const built = await buildAgentSpend(ctx, wallet, wallet.agent, record, asset);
    // Signed at once: the enclave's policy has no delay for it. The signature is not used.
    await enclaveSign(ctx, wallet.id, record.id, built);
    return record;
  } catch (error) {
    if (isHalt(error)) throw error;
    if (enclaveDelayUntil(error) !== undefined) return record;
    const refused = isWaiaasError(error) && error.layer === 'enclave' && error.code !== 'ENCLAVE_UNAVAILABLE';
    if (!refused) {
      ctx.logger.warn(
        { err: error, transferId: record.id },
        'the enclave did not see the delayed transfer yet',
      );
      return record;
    }
    const stored = storedError(error);
    const nowMs = nowBig(ctx);
    const done: TransferRecord = {
      ...record,
      status: 'rejected',
      countsDaily: false,
      errorCode: stored.error_code,
      errorDetail: stored.error_detail,
      updatedAt: nowMs,
    };
    const moved = await transitionRecorded(
      ctx,
      record.id,
      { from: ['delayed'] },
      { status: 'rejected', counts_daily: 0n, ...stored, updated_at: nowMs },
      { type: 'transfer.rejected', transfer: done },
    );
    if (!moved) return record;
    ctx.events.emit('transfer.rejected', done);
    return done;
  }
}
