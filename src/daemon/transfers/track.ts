/** Runs `work` on a transfer as this process's in-flight work on it, so a retry can wait on it. */
import type { TransferRecord } from '../../store/transfers.ts';
import type { PipelineContext } from './context.ts';

export async function track(
  ctx: PipelineContext,
  transferId: string,
  work: () => Promise<TransferRecord>,
): Promise<TransferRecord> {
  const running = work();
  ctx.inFlight.set(transferId, running);
  try {
    return await running;
  } finally {
    if (ctx.inFlight.get(transferId) === running) ctx.inFlight.delete(transferId);
  }
}
