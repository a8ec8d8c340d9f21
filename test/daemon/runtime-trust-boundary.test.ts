/**
 * The daemon never holds a secret that opens an agent seed (DESIGN.md §2, issue 10), tried as an
 * attacker with a copy of everything the daemon can read would try it: every file of the data
 * directory but the enclave's own state (`<data>/enclave/`), the daemon's environment, and every row
 * of its database. Every secret found there, every keystore opened with every passphrase found
 * there, every 32-byte value encoded there, is tried as the vault key against every sealed blob the
 * database holds (agent seeds, checkpoints). Nothing opens. The same test, given the enclave's state
 * directory, opens them all.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import bs58 from 'bs58';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { webhookSecretKey } from '../../src/daemon/notifier/secret-box.ts';
import { agentSeedContext, openAgentKey, type SealedAgentKey } from '../../src/enclave/agent-keys.ts';
import { CHECKPOINT_CONTEXT } from '../../src/enclave/checkpoint.ts';
import { decryptKeystore, type KeystorePurpose } from '../../src/keys/keystore.ts';
import { localVaultWithKey } from '../../src/keys/vault/local-vault.ts';
import type { VaultContext } from '../../src/keys/vault/sealed-blob.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  createOwner,
  createWalletSession,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
  type TransferDaemon,
  waitForTransfer,
} from '../transfers/harness.ts';

interface SealedBlob {
  readonly what: string;
  readonly blob: Buffer;
  readonly context: VaultContext;
  readonly publicKey?: string;
}

const walk = (dir: string, skip: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (path === skip) return [];
    const info = lstatSync(path);
    if (info.isDirectory()) return walk(path, skip);
    return info.isFile() ? [path] : [];
  });

/** Every 32-byte value a text encodes in hex, base64 or base58, as an attacker would decode it. */
const decodings = (text: string): Buffer[] => {
  const found: Buffer[] = [];
  for (const token of text.match(/[A-Za-z0-9+/=_-]{32,}/g) ?? []) {
    const tries = [
      () => (/^[0-9a-fA-F]{64}$/.test(token) ? Buffer.from(token, 'hex') : undefined),
      () => Buffer.from(token, 'base64'),
      () => Buffer.from(token, 'base64url'),
      () => Buffer.from(bs58.decode(token)),
    ];
    for (const attempt of tries) {
      try {
        const bytes = attempt();
        if (bytes?.length === 32) found.push(bytes);
        // A 64-byte Solana secret key holds its seed in the first half.
        if (bytes?.length === 64) found.push(bytes.subarray(0, 32));
      } catch {
        // not that encoding
      }
    }
  }
  return found;
};

describeWithSquads('the trust boundary between the daemon and the enclave (process mode)', () => {
  let daemon: TransferDaemon;
  const blobs: SealedBlob[] = [];

  beforeAll(async () => {
    daemon = await startTransferDaemon();
    const owner = await createOwner(daemon.app, daemon.store);
    for (let index = 0; index < 2; index++) {
      const { wallet, session } = await createWalletSession(daemon, owner, policy());
      const sent = await postTransfer(daemon.app, session.token, wallet.id, {
        to: newRecipient(),
        amount: String(SOL / 20n),
      });
      expect(sent.statusCode).toBeLessThan(300);
      const done = await waitForTransfer(daemon.app, session.token, sent.json().id, (body) =>
        ['confirmed', 'failed'].includes(body.status),
      );
      expect(done.status).toBe('confirmed');
    }
    await daemon.runtime.enclaveRuntime.checkpointer.flush();

    for (const row of await daemon.store.db.selectFrom('agent_keys').selectAll().execute()) {
      const sealed = JSON.parse(row.sealed) as SealedAgentKey;
      blobs.push({
        what: `agent seed ${row.public_key}`,
        blob: Buffer.from(sealed.sealedSeed, 'base64'),
        context: agentSeedContext(sealed),
        publicKey: sealed.publicKey,
      });
    }
    for (const row of await daemon.store.db.selectFrom('enclave_checkpoints').selectAll().execute()) {
      blobs.push({
        what: `checkpoint of ${row.wallet_id}`,
        blob: Buffer.from(row.sealed, 'base64'),
        context: CHECKPOINT_CONTEXT(row.wallet_id),
      });
    }
  }, 180_000);

  afterAll(async () => {
    await daemon?.close();
  });

  it('finds no way to any agent seed in what the daemon can read', async () => {
    const enclaveDir = join(daemon.dataDir, 'enclave');
    const files = walk(daemon.dataDir, enclaveDir);
    // The attack is real: the daemon's own secret, keystores and database are all in the copy.
    expect(files.map((file) => relative(daemon.dataDir, file))).toEqual(
      expect.arrayContaining(['keys/daemon.passphrase', 'keys/fee-payer.json', 'waiaas.sqlite']),
    );
    expect(existsSync(join(daemon.dataDir, 'keys', 'enclave-vault.keystore'))).toBe(false);

    const texts: string[] = Object.values(process.env).filter((value): value is string => !!value);
    const candidates: Buffer[] = [];
    for (const file of files) {
      const bytes = readFileSync(file);
      if (bytes.length > 64 * 1024 * 1024) continue;
      texts.push(bytes.toString('latin1'));
      // Small files: every 32-byte window, in case a raw key sits there.
      if (bytes.length <= 4096)
        for (let offset = 0; offset + 32 <= bytes.length; offset++)
          candidates.push(bytes.subarray(offset, offset + 32));
    }
    const tables = await daemon.store.db
      .selectFrom('sqlite_master' as never)
      .select('name' as never)
      .where('type' as never, '=', 'table' as never)
      .execute();
    for (const { name } of tables as { name: string }[]) {
      for (const row of await daemon.store.db
        .selectFrom(name as never)
        .selectAll()
        .execute())
        texts.push(...Object.values(row as Record<string, unknown>).map((value) => String(value)));
    }
    for (const text of texts) candidates.push(...decodings(text));

    // Every keystore the daemon keeps, opened with every passphrase it can read.
    const daemonSecret = readFileSync(join(daemon.dataDir, 'keys', 'daemon.passphrase'), 'utf8').trim();
    const passphrases = new Set([
      daemonSecret,
      ...Object.entries(process.env)
        .filter(([name]) => name.startsWith('WAIAAS_'))
        .map(([, value]) => value ?? ''),
    ]);
    candidates.push(Buffer.from(webhookSecretKey(daemonSecret)));
    for (const passphrase of passphrases) candidates.push(createHash('sha256').update(passphrase).digest());
    let keystoresOpened = 0;
    for (const file of files.filter((path) => path.endsWith('.json'))) {
      const text = readFileSync(file, 'utf8');
      for (const purpose of ['owner-key', 'vault-key'] as KeystorePurpose[]) {
        for (const passphrase of passphrases) {
          try {
            const { secret } = await decryptKeystore(text, passphrase, purpose);
            candidates.push(Buffer.from(secret));
            keystoresOpened++;
          } catch {
            // not this keystore's passphrase or purpose
          }
        }
      }
    }
    // The fee payer's keystore is the daemon's to open, and was opened: its seed is a candidate too.
    expect(keystoresOpened).toBeGreaterThanOrEqual(1);
    const feePayerSeed = daemon.runtime.feePayer.secretKey.subarray(0, 32);
    expect(candidates.some((candidate) => candidate.equals(feePayerSeed))).toBe(true);

    const unique = [...new Map(candidates.map((key) => [key.toString('hex'), key])).values()];
    expect(unique.length).toBeGreaterThan(1_000);
    expect(blobs.filter((blob) => blob.what.startsWith('agent seed')).length).toBeGreaterThanOrEqual(2);
    expect(blobs.filter((blob) => blob.what.startsWith('checkpoint')).length).toBeGreaterThanOrEqual(2);
    const opened: string[] = [];
    for (const key of unique) {
      const vault = localVaultWithKey(new Uint8Array(key));
      for (const { what, blob, context } of blobs) {
        try {
          await vault.unseal(blob, context);
          opened.push(what);
        } catch {
          // refused: as it must be
        }
      }
    }
    expect(opened).toEqual([]);
  }, 300_000);

  it('the daemon passed the enclave process no secret: not in its arguments, not in its environment', () => {
    const pid = daemon.runtime.enclave.status().pid!;
    const daemonSecret = readFileSync(join(daemon.dataDir, 'keys', 'daemon.passphrase'), 'utf8').trim();
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    expect(cmdline).not.toContain(daemonSecret);
    expect(environ).not.toContain(daemonSecret);
    expect(cmdline).not.toContain('passphrase');
    expect(environ).not.toContain('WAIAAS_DAEMON_PASSPHRASE');
  });

  it('the other way round: the enclave’s own state directory opens every seed and checkpoint', async () => {
    const vault = localVaultWithKey(
      new Uint8Array(readFileSync(join(daemon.dataDir, 'enclave', 'vault.key'))),
    );
    for (const { blob, context } of blobs) {
      const plaintext = await vault.unseal(blob, context);
      expect(plaintext.length).toBeGreaterThan(0);
    }
    for (const row of await daemon.store.db.selectFrom('agent_keys').selectAll().execute()) {
      const key = await openAgentKey(JSON.parse(row.sealed) as SealedAgentKey, vault);
      expect(key.publicKeyBase58).toBe(row.public_key);
    }
  });
});
