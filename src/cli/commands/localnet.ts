import { parseArgs } from 'node:util';
import { type ErrorCode, isWaiaasError } from '../../core/errors.ts';
import { loadConfig } from '../../daemon/config.ts';
import { startLocalnet } from '../../localnet/index.ts';
import { waitForShutdownSignal } from '../signals.ts';

/** Messages a localnet child sends to the `waiaas start` process that spawned it. */
export type LocalnetChildMessage =
  | { type: 'ready'; rpcUrl: string; wsUrl: string; squads: { status: string; fix?: string } }
  | { type: 'error'; message: string; code?: ErrorCode };

const onParentGone = () => process.kill(process.pid, 'SIGTERM');

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string' } }, strict: true });
  const config = loadConfig();
  const port = values.port === undefined ? config.localnetPort : Number(values.port);
  const supervised = typeof process.send === 'function';

  let localnet: Awaited<ReturnType<typeof startLocalnet>>;
  try {
    localnet = await startLocalnet({
      dataDir: config.dataDir,
      host: '127.0.0.1',
      port,
      ...(config.squadsSo ? { squadsProgramPath: config.squadsSo } : {}),
    });
  } catch (error) {
    if (!supervised) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const code = isWaiaasError(error) ? error.code : undefined;
    process.send?.({ type: 'error', message, ...(code ? { code } : {}) } satisfies LocalnetChildMessage);
    return 1;
  }

  if (supervised) {
    process.send?.({
      type: 'ready',
      rpcUrl: localnet.rpcUrl,
      wsUrl: localnet.wsUrl,
      squads: localnet.squads,
    } satisfies LocalnetChildMessage);
    // The parent going away must not leave an orphan chain behind.
    process.on('disconnect', onParentGone);
  } else {
    console.log(`localnet RPC    ${localnet.rpcUrl}`);
    console.log(`localnet WS     ${localnet.wsUrl}`);
    console.log(
      `squads program  ${localnet.squads.status}${localnet.squads.fix ? ` — ${localnet.squads.fix}` : ''}`,
    );
    console.log(`ledger          ${config.dataDir}/localnet`);
  }

  await waitForShutdownSignal();
  await localnet.close();
  // The IPC channel would keep this process alive after everything else has closed.
  process.off('disconnect', onParentGone);
  if (supervised && process.connected) process.disconnect();
  return 0;
}
