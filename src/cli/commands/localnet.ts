import type { Command } from 'commander';
import type { ErrorCode } from '../../core/errors.ts';
import { type JsonFlags, jsonOption } from '../flags.ts';

/** Messages a localnet child sends to the `waiaas start` process that spawned it. */
export type LocalnetChildMessage =
  | { type: 'ready'; rpcUrl: string; wsUrl: string; squads: { status: string; fix?: string } }
  | { type: 'error'; message: string; code?: ErrorCode };

const onParentGone = () => process.kill(process.pid, 'SIGTERM');

export function register(program: Command): void {
  jsonOption(
    program
      .command('localnet')
      .description('run the embedded localnet alone (LiteSVM with the Squads program, Solana JSON-RPC)')
      .option(
        '--port <port>',
        'JSON-RPC port; the websocket listens on the next one (default: WAIAAS_LOCALNET_PORT)',
      ),
    'print where it listens as one JSON document',
  ).action(async (flags: JsonFlags & { port?: string }) => {
    process.exitCode = await runLocalnet(flags);
  });
}

async function runLocalnet(flags: JsonFlags & { port?: string }): Promise<number> {
  const { isWaiaasError } = await import('../../core/errors.ts');
  const { loadConfig } = await import('../../daemon/config.ts');
  const { startLocalnet } = await import('../../localnet/index.ts');
  const { waitForShutdownSignal } = await import('../signals.ts');
  const config = loadConfig();
  const port = flags.port === undefined ? config.localnetPort : Number(flags.port);
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
  } else if (flags.json) {
    const { toJson } = await import('../output.ts');
    console.log(
      toJson({
        rpcUrl: localnet.rpcUrl,
        wsUrl: localnet.wsUrl,
        squads: localnet.squads,
        ledger: `${config.dataDir}/localnet`,
      }),
    );
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
