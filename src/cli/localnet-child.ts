import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ErrorCode, WaiaasError } from '../core/errors.ts';
import type { LocalnetChildMessage } from './commands/localnet.ts';

const binPath = fileURLToPath(new URL('../../bin/waiaas.mjs', import.meta.url));

export interface LocalnetChild {
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly squads: { status: string; fix?: string };
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs the localnet in its own process: LiteSVM executes transactions synchronously, and on a
 * separate core it does not stall the daemon's event loop.
 */
export function spawnLocalnet(port: number, env: NodeJS.ProcessEnv = process.env): Promise<LocalnetChild> {
  const child = spawn(process.execPath, [binPath, 'localnet', '--port', String(port)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  return new Promise((resolve, reject) => {
    const fail = (message: string, code: ErrorCode = 'CHAIN_UNAVAILABLE') => {
      child.off('message', onMessage);
      reject(new WaiaasError(code, { message }));
    };
    const onMessage = (message: LocalnetChildMessage) => {
      if (message.type === 'error') {
        child.off('exit', onExit);
        fail(message.message, message.code);
        return;
      }
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve({ rpcUrl: message.rpcUrl, wsUrl: message.wsUrl, squads: message.squads, process: child, stop });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`localnet exited before it was ready (${signal ?? `exit code ${code}`})`);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
