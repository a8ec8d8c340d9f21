/**
 * The enclave's `main` as a process of its own, started the way a Nitro image's entry point starts
 * it (the bundled enclave code on plain node, its arguments baked in), not as the daemon's child; and
 * socat bridges, the transport to it. For the tests of Nitro mode that can run on this machine.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { bundledEnclaveCommand } from '../../../src/daemon/enclave-supervisor.ts';
import { defaultBundleCacheDir } from '../../../src/enclave/process-bundle.ts';

export interface EnclaveProcess {
  readonly child: ChildProcess;
  readonly ready: Record<string, unknown>;
  stderr(): string;
  /** SIGKILL, as a terminated enclave: resolves once it is gone. */
  kill(): Promise<void>;
}

export async function startEnclaveProcess(
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<EnclaveProcess> {
  const command = await bundledEnclaveCommand(defaultBundleCacheDir());
  const child = spawn(command[0]!, [...command.slice(1), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin?.end();
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const line = out.split('\n').find((text) => text.includes('"event":"ready"'));
      if (line) {
        clearInterval(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      } else if (child.exitCode !== null || child.signalCode !== null) {
        clearInterval(timer);
        reject(new Error(`the enclave exited before it was ready: ${err}`));
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        child.kill('SIGKILL');
        reject(new Error(`the enclave was not ready in time: ${err}`));
      }
    }, 25);
  });
  return {
    child,
    ready,
    stderr: () => err,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A socat bridge kept until `stop()`. */
export interface Bridge {
  stop(): Promise<void>;
}

export function startSocat(command: readonly string[]): Bridge {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export const socatInstalled = (): boolean => spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

/**
 * Whether vsock loopback (CID 1) carries a connection here: a listener on a vsock port and a connect
 * to CID 1 on it, through socat. Needs the vsock_loopback kernel module (or a Nitro parent).
 */
export function vsockLoopbackWorks(port: number): { works: boolean; why: string } {
  if (!socatInstalled()) return { works: false, why: 'socat is not installed' };
  const listener = spawn(
    'socat',
    ['-T', '3', `VSOCK-LISTEN:${port},reuseaddr`, 'SYSTEM:echo vsock-loopback-ok'],
    {
      stdio: 'ignore',
    },
  );
  try {
    spawnSync('sleep', ['0.3']);
    const probe = spawnSync('socat', ['-T', '3', '-', `VSOCK-CONNECT:1:${port}`], {
      input: '',
      timeout: 5_000,
      encoding: 'utf8',
    });
    if (probe.stdout?.includes('vsock-loopback-ok')) return { works: true, why: '' };
    const reason = (probe.stderr ?? '').trim().split('\n').at(-1) ?? `exit ${probe.status}`;
    return { works: false, why: `VSOCK-CONNECT:1:${port} failed (${reason.replace(/^.*E /, '')})` };
  } finally {
    listener.kill('SIGKILL');
  }
}
