/**
 * `waiaas enclave --socket PATH | --vsock PORT --state-dir DIR`: the agent enclave as its own process.
 * It opens no network connection and no database: it reads its key vault and writes its journal in
 * the state dir, and answers the enclave protocol on one socket. The daemon's supervisor starts it.
 *
 * Key vault (local AES-256-GCM, src/keys/vault): the keystore at --vault-keystore (default
 * <state-dir>/vault.keystore, created on first run), unlocked with the passphrase read from the first
 * line of stdin (--vault-passphrase-stdin) or from WAIAAS_ENCLAVE_VAULT_PASSPHRASE.
 *
 * Prints one JSON line `{"event":"ready",…}` on stdout once it listens; logs go to stderr.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WaiaasError } from '../../core/errors.ts';
import type { AttestationProvider } from '../../enclave/attestation/provider.ts';
import { builtCodeSha384, enclaveCodeBundle } from '../../enclave/code-bundle.ts';
import { AgentEnclave } from '../../enclave/enclave.ts';
import { createGcPacer } from '../../enclave/gc-pacer.ts';
import { Op } from '../../enclave/protocol.ts';
import { closeServer, listenUnix, listenVsock } from '../../enclave/server.ts';
import { FileStateStore } from '../../enclave/state-journal.ts';
import { setArgon2Isolation } from '../../keys/kdf.ts';
import { openLocalVault, provisionLocalVault } from '../../keys/vault/local-vault.ts';
import { waitForShutdownSignal } from '../signals.ts';

export const ENCLAVE_PASSPHRASE_ENV = 'WAIAAS_ENCLAVE_VAULT_PASSPHRASE';

const usage =
  'Usage: waiaas enclave (--socket PATH | --vsock PORT) --state-dir DIR [--vault-keystore PATH] [--vault-passphrase-stdin] [--attestation dev|nitro|none]';

const configError = (message: string, key: string) =>
  new WaiaasError('CONFIG_INVALID', { message: `${message}\n${usage}`, details: { key } });

const readFirstStdinLine = async (): Promise<string> => {
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return line;
  } finally {
    lines.close();
  }
  return '';
};

const log = (line: string) => process.stderr.write(`${line}\n`);

const openAttestation = async (kind: string, stateDir: string): Promise<AttestationProvider | undefined> => {
  if (kind === 'none') return undefined;
  const providers = await import('../../enclave/attestation/index.ts');
  if (kind === 'nitro') return providers.createNitroAttestationProvider();
  if (kind === 'dev') {
    // Bundled, the process reports the measurement taken when it was built from its sources; run
    // from source, it measures the sources it loaded.
    const codeSha384 = builtCodeSha384();
    const dir = join(stateDir, 'dev-attestation');
    return providers.createDevAttestationProvider(
      codeSha384 ? { dir, codeSha384 } : { dir, codeBundle: enclaveCodeBundle() },
    );
  }
  throw configError(`unknown attestation provider "${kind}"`, 'attestation');
};

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      socket: { type: 'string' },
      vsock: { type: 'string' },
      'state-dir': { type: 'string' },
      'vault-keystore': { type: 'string' },
      'vault-passphrase-stdin': { type: 'boolean' },
      attestation: { type: 'string' },
    },
  });
  if ((values.socket === undefined) === (values.vsock === undefined))
    throw configError('give one of --socket or --vsock', 'socket');
  if (values['state-dir'] === undefined) throw configError('--state-dir is required', 'state-dir');
  const stateDir = resolve(values['state-dir']);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });

  // This process derives its vault key once and then stays small for good: argon2id (64 MiB) runs
  // in a child process that gives back all of its memory when it exits.
  setArgon2Isolation('child-process');
  const passphrase = values['vault-passphrase-stdin']
    ? await readFirstStdinLine()
    : process.env[ENCLAVE_PASSPHRASE_ENV];
  if (!passphrase)
    throw configError(`no vault passphrase (stdin or ${ENCLAVE_PASSPHRASE_ENV})`, 'vault-passphrase');
  const keystorePath = resolve(values['vault-keystore'] ?? join(stateDir, 'vault.keystore'));
  const vaultConfig = existsSync(keystorePath)
    ? { kind: 'local' as const, keystorePath }
    : await provisionLocalVault({ keystorePath, passphrase });
  const vault = await openLocalVault(vaultConfig, passphrase);

  const store = await FileStateStore.open(stateDir, vault);
  const attestation = await openAttestation(values.attestation ?? 'dev', stateDir);
  const enclave = AgentEnclave.create({ vault, store, ...(attestation ? { attestation } : {}) });

  // With --expose-gc (the supervisor starts it so), heaps grown by bursts of rare ops go back.
  const collect = (globalThis as { gc?: () => void }).gc;
  const pacer = createGcPacer({ collect });
  const serveOptions = {
    log,
    onRequest: (kind: number) => pacer.noteRequest(kind !== Op.SIGN && kind !== Op.PING),
  };
  let close: () => Promise<void>;
  if (values.socket !== undefined) {
    const server: Server = await listenUnix(enclave, resolve(values.socket), serveOptions);
    close = () => closeServer(server);
  } else {
    const port = Number(values.vsock);
    if (!Number.isInteger(port) || port <= 0 || port > 0xffffffff)
      throw configError('--vsock takes a port number', 'vsock');
    const server = listenVsock(enclave, port, serveOptions);
    close = async () => {
      server.close();
    };
  }
  collect?.(); // what start-up left behind (journal replay, the development CA, key derivation)
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', pid: process.pid, socket: values.socket, vsock: values.vsock, attestation: attestation?.kind ?? 'none' })}\n`,
  );

  // On a Unix socket the enclave is the daemon's child: if the daemon dies (even by SIGKILL) the
  // enclave must not linger with agent keys in memory, so it shuts down once it is orphaned.
  const orphanWatch =
    values.socket === undefined ? undefined : watchForOrphaning(() => process.kill(process.pid, 'SIGTERM'));
  await waitForShutdownSignal();
  if (orphanWatch) clearInterval(orphanWatch);
  pacer.stop();
  await close();
  enclave.close();
  await vault.close();
  return 0;
}

/** Calls `onOrphaned` once the parent process is gone (the process is re-parented). */
function watchForOrphaning(onOrphaned: () => void): NodeJS.Timeout {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, 500);
  timer.unref();
  return timer;
}
