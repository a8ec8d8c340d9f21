import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DaemonSecret {
  readonly value: string;
  /** Where it came from, for health: a file beside the keystores is the embedded default only. */
  readonly source: 'environment' | 'file';
}

/**
 * The passphrase of the daemon's own keystore (its fee payer) and of its webhook secrets: from
 * WAIAAS_DAEMON_PASSPHRASE when the operator supplies it, else a random one generated once into an
 * owner-only file in the data directory. The file keeps seeds off the database and out of backups
 * of it; a production set-up supplies the passphrase or uses KMS instead. It opens no agent seed:
 * the enclave keeps its own key (runtime/enclave.ts); it reaches the enclave only once, on stdin, to
 * migrate the vault the daemon used to hold (runtime/enclave-legacy-vault.ts).
 */
export function loadDaemonSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): DaemonSecret {
  const fromEnv = env.WAIAAS_DAEMON_PASSPHRASE;
  if (fromEnv) return { value: fromEnv, source: 'environment' };
  const path = join(dataDir, 'keys', 'daemon.passphrase');
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  return { value: readFileSync(path, 'utf8').trim(), source: 'file' };
}

/**
 * The enclave channel's key, the same on every replica (they share the daemon secret): it lets a
 * replica talk to any enclave instance (src/enclave/channel.ts), and opens no seed (the enclaves'
 * vault keys are their own).
 */
export const enclaveChannelKey = (daemonSecret: DaemonSecret): Buffer =>
  createHmac('sha256', daemonSecret.value).update('waiaas enclave channel key v1').digest();
