import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const binPath = fileURLToPath(new URL('../../bin/waiaas.mjs', import.meta.url));

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A free TCP port on loopback whose next port is free too (the localnet's websocket uses port + 1). */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error('no free port pair found');
}

export interface RunningCommand {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the stdout so far once it matches, rejects if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Command lines of the running processes that mention `needle` (a data directory, a port flag). */
export function processesMentioning(needle: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', '--', needle], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/**
 * Runs `waiaas <args>` as a user would, through the package's bin (the built CLI). Quickstart's
 * program source defaults to a closed loopback port, so no test ever reaches a public RPC.
 */
export function runWaiaas(args: string[], env: NodeJS.ProcessEnv, input?: string): RunningCommand {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, WAIAAS_PROGRAM_SOURCE_RPC: 'http://127.0.0.1:9', ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin?.end(input);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setInterval(() => {
          if (pattern.test(out)) {
            clearInterval(timer);
            resolve(out);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearInterval(timer);
            reject(
              new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${pattern}: ${err}`),
            );
          } else if (Date.now() - started > timeoutMs) {
            clearInterval(timer);
            reject(new Error(`timed out waiting for ${pattern}; stdout: ${out}; stderr: ${err}`));
          }
        }, 50);
        const started = Date.now();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
