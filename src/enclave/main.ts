/**
 * The agent enclave process: `waiaas enclave (--socket PATH | --vsock PORT) --state-dir DIR …`.
 * It opens no network connection of its own (KMS, in Nitro mode, through the parent's vsock proxy)
 * and no database: it keeps its vault key and its journal in its state dir, and answers the enclave
 * protocol on one socket. Everything it runs lives under src/enclave, src/core, src/solana/inspect
 * and src/keys, the code its development PCR0 measures (code-bundle.ts), this file included: how
 * the vault is opened and which attestation provider is used are part of what is attested.
 *
 * Key vault (--vault):
 *   local (default): AES-256-GCM under the enclave's own key, `<state-dir>/vault.key` (0600, created on
 *     first run). The daemon never reads it and never passes it: only this process can open a seed.
 *   aws-kms: KMS Encrypt to seal; KMS Decrypt with `Recipient` (an attestation document carrying an
 *     RSA key generated here) to unseal, so a key policy can require this image's measurement
 *     (waiaas kms-policy seal). The key id is an argument of the image, so it is measured too: a host
 *     cannot point the enclave at a key it controls. AWS credentials come from the host
 *     (SET_AWS_CREDENTIALS); they open nothing without the attestation.
 * Journal: in the state dir with the local vault; in memory with KMS (see below).
 * Legacy vault (--legacy-vault-keystore PATH): the keystore the daemon used to hold, opened with the
 * passphrase read from stdin, only to re-seal what it sealed (MIGRATE_LEGACY_VAULT).
 * Channel (--channel-key-stdin): the deployment's channel key is the first line of stdin (base64);
 * every connection must prove it holds it before any other request (channel.ts), so replicas other
 * than this enclave's parent can reach it, and nothing else on the host can.
 *
 * Prints one JSON line `{"event":"ready",…}` on stdout once it listens; logs go to stderr.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WaiaasError } from '../core/errors.ts';
import { setArgon2Isolation } from '../keys/kdf.ts';
import { vaultWithRecipient } from '../keys/vault/attested-vault.ts';
import { openLocalVault, openLocalVaultKeyFile } from '../keys/vault/local-vault.ts';
import type { KeyVault } from '../keys/vault/types.ts';
import type { EnclaveVault } from './agent-keys.ts';
import type { AttestationProvider } from './attestation/provider.ts';
import { builtCodeSha384, enclaveCodeBundle } from './code-bundle.ts';
import { AgentEnclave, type Isolation, type SeedProtection } from './enclave.ts';
import { createGcPacer } from './gc-pacer.ts';
import { createAttestedRecipient } from './kms-recipient.ts';
import { type AwsCredentialsArgs, Op } from './protocol.ts';
import { closeServer, listenUnix } from './server.ts';
import { FileStateStore, MemoryStateStore } from './state-journal.ts';
import { enclaveBridgeCommand, startBridge } from './vsock-bridge.ts';

export const VAULT_KEY_FILE = 'vault.key';
export const ENCLAVE_SOCKET_FILE = 'enclave.sock';

const usage =
  'Usage: waiaas enclave (--socket PATH | --vsock PORT) --state-dir DIR [--attestation dev|nitro|none] ' +
  '[--vault local|aws-kms] [--kms-key-id ID --kms-region REGION [--kms-endpoint URL]] ' +
  '[--legacy-vault-keystore PATH] [--channel-key-stdin]';

const configError = (message: string, key: string) =>
  new WaiaasError('CONFIG_INVALID', { message: `${message}\n${usage}`, details: { key } });

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The first `count` lines of stdin (fewer when it ends first). */
const readStdinLines = async (count: number): Promise<string[]> => {
  const out: string[] = [];
  if (count === 0) return out;
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) {
      out.push(line);
      if (out.length === count) break;
    }
  } finally {
    lines.close();
  }
  return out;
};

/** Resolves on the first SIGINT or SIGTERM. */
const shutdownSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

const openAttestation = async (kind: string, stateDir: string): Promise<AttestationProvider | undefined> => {
  if (kind === 'none') return undefined;
  const providers = await import('./attestation/index.ts');
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

interface OpenedVault {
  readonly vault: KeyVault;
  readonly seedProtection: SeedProtection;
  readonly onAwsCredentials?: (credentials: AwsCredentialsArgs) => void;
}

const openKmsVault = async (
  values: { 'kms-key-id'?: string; 'kms-region'?: string; 'kms-endpoint'?: string },
  attestation: AttestationProvider | undefined,
): Promise<OpenedVault> => {
  const keyId = values['kms-key-id'];
  const region = values['kms-region'];
  if (!keyId) throw configError('--vault aws-kms needs --kms-key-id', 'kms-key-id');
  if (!region) throw configError('--vault aws-kms needs --kms-region', 'kms-region');
  let current: AwsCredentialsArgs | undefined;
  const { createAwsKmsVault } = await import('../keys/vault/kms-vault.ts');
  const kms = createAwsKmsVault(
    {
      kind: 'aws-kms',
      keyId,
      region,
      ...(values['kms-endpoint'] ? { endpoint: values['kms-endpoint'] } : {}),
    },
    {
      credentials: async () => {
        if (current === undefined) {
          throw new WaiaasError('VAULT_UNAVAILABLE', {
            message: 'The enclave has no AWS credentials yet (the daemon hands them over after it attaches)',
          });
        }
        return {
          accessKeyId: current.accessKeyId,
          secretAccessKey: current.secretAccessKey,
          ...(current.sessionToken ? { sessionToken: current.sessionToken } : {}),
          ...(current.expiration ? { expiration: new Date(current.expiration) } : {}),
        };
      },
    },
  );
  const onAwsCredentials = (credentials: AwsCredentialsArgs) => {
    current = credentials;
  };
  if (attestation === undefined) return { vault: kms, seedProtection: 'kms', onAwsCredentials };
  return {
    vault: vaultWithRecipient(kms, createAttestedRecipient(attestation)),
    seedProtection: 'kms-attested',
    onAwsCredentials,
  };
};

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      socket: { type: 'string' },
      vsock: { type: 'string' },
      'state-dir': { type: 'string' },
      attestation: { type: 'string' },
      vault: { type: 'string' },
      'kms-key-id': { type: 'string' },
      'kms-region': { type: 'string' },
      'kms-endpoint': { type: 'string' },
      'legacy-vault-keystore': { type: 'string' },
      'channel-key-stdin': { type: 'boolean' },
    },
  });
  if ((values.socket === undefined) === (values.vsock === undefined))
    throw configError('give one of --socket or --vsock', 'socket');
  if (values['state-dir'] === undefined) throw configError('--state-dir is required', 'state-dir');
  const stateDir = resolve(values['state-dir']);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const vsockPort = values.vsock === undefined ? undefined : Number(values.vsock);
  if (vsockPort !== undefined && (!Number.isInteger(vsockPort) || vsockPort <= 0 || vsockPort > 0xffffffff))
    throw configError('--vsock takes a port number', 'vsock');

  const attestationKind = values.attestation ?? 'dev';
  const attestation = await openAttestation(attestationKind, stateDir);
  const isolation: Isolation = attestation?.kind === 'nitro' ? 'nitro' : 'process';

  let opened: OpenedVault;
  const vaultKind = values.vault ?? 'local';
  if (vaultKind === 'local') {
    opened = {
      vault: openLocalVaultKeyFile(join(stateDir, VAULT_KEY_FILE)).vault,
      seedProtection: 'enclave-local-key',
    };
  } else if (vaultKind === 'aws-kms') {
    opened = await openKmsVault(values, attestation);
  } else {
    throw configError(`unknown vault "${vaultKind}"`, 'vault');
  }
  const vault = opened.vault;

  // stdin: the channel key's line first (base64), then the legacy vault's passphrase, as asked for.
  const legacyPath = values['legacy-vault-keystore'];
  const wantsKey = values['channel-key-stdin'] === true;
  const stdinLines = await readStdinLines((wantsKey ? 1 : 0) + (legacyPath === undefined ? 0 : 1));
  let channelKey: Buffer | undefined;
  if (wantsKey) {
    channelKey = Buffer.from(stdinLines.shift() ?? '', 'base64');
    if (channelKey.length < 32)
      throw configError('the channel key (stdin) must be 32 bytes or more', 'channel-key-stdin');
  }

  let legacyVault: (EnclaveVault & { close(): Promise<void> }) | undefined;
  if (legacyPath !== undefined) {
    // argon2id (64 MiB) runs in a child process that gives its memory back when it exits.
    setArgon2Isolation('child-process');
    const passphrase = stdinLines.shift();
    if (!passphrase)
      throw configError('the legacy vault passphrase is read from stdin', 'legacy-vault-keystore');
    legacyVault = await openLocalVault({ kind: 'local', keystorePath: resolve(legacyPath) }, passphrase);
  }

  // With the local vault the journal lives in the state dir and survives restarts. With KMS it is
  // kept in memory: a Nitro Enclave has no disk, and the key that seals a journal could not be
  // opened before the host hands over credentials. Such an enclave starts empty every time and
  // takes its wallets over from the database's checkpoints and the chain (RECOVER).
  const store =
    vault.kind === 'local'
      ? await FileStateStore.open(stateDir, vault, legacyVault ? { legacyVault } : {})
      : new MemoryStateStore();
  const enclave = AgentEnclave.create({
    vault,
    store,
    isolation,
    seedProtection: opened.seedProtection,
    ...(attestation ? { attestation } : {}),
    ...(legacyVault ? { legacyVault } : {}),
    ...(opened.onAwsCredentials ? { onAwsCredentials: opened.onAwsCredentials } : {}),
  });

  // With --expose-gc (the supervisor starts it so), heaps grown by bursts of rare ops go back.
  const collect = (globalThis as { gc?: () => void }).gc;
  const pacer = createGcPacer({ collect });
  const serveOptions = {
    log,
    ...(channelKey ? { channelKey } : {}),
    onRequest: (kind: number) => pacer.noteRequest(kind !== Op.SIGN && kind !== Op.PING),
  };
  const socketPath = resolve(values.socket ?? join(stateDir, ENCLAVE_SOCKET_FILE));
  const server: Server = await listenUnix(enclave, socketPath, serveOptions);
  // On Nitro the daemon reaches the socket through vsock: socat bridges the port to it.
  let bridge: ChildProcess | undefined;
  if (vsockPort !== undefined) bridge = startBridge(enclaveBridgeCommand(vsockPort, socketPath), log);
  collect?.(); // what start-up left behind (journal replay, the development CA, key derivation)
  process.stdout.write(
    `${JSON.stringify({
      event: 'ready',
      pid: process.pid,
      socket: socketPath,
      vsock: vsockPort,
      attestation: attestation?.kind ?? 'none',
      isolation,
      vault: vault.kind,
      seedProtection: opened.seedProtection,
      legacyVault: legacyVault !== undefined,
    })}\n`,
  );

  // On a Unix socket the enclave is the daemon's child: if the daemon dies (even by SIGKILL) the
  // enclave must not linger with agent keys in memory, so it shuts down once it is orphaned.
  const orphanWatch =
    values.socket === undefined ? undefined : watchForOrphaning(() => process.kill(process.pid, 'SIGTERM'));
  await shutdownSignal();
  if (orphanWatch) clearInterval(orphanWatch);
  pacer.stop();
  bridge?.kill('SIGTERM');
  await closeServer(server);
  enclave.close();
  await vault.close();
  await legacyVault?.close();
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
