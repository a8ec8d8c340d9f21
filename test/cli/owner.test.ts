import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { startTestKms, type TestKms } from '../support/kms-server.ts';
import { runWaiaas } from '../support/processes.ts';

const passphrase = 'correct horse battery staple';

async function waiaas(args: string[], env: NodeJS.ProcessEnv, input?: string) {
  const command = runWaiaas(args, env, input);
  const { code } = await command.exited;
  return { code, stdout: command.stdout(), stderr: command.stderr() };
}

describe('waiaas owner and keystore commands', () => {
  let kms: TestKms;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    kms = await startTestKms();
    dataDir = join(mkdtempSync(join(tmpdir(), 'waiaas-owner-')), 'data');
    env = {
      WAIAAS_DATA_DIR: dataDir,
      AWS_ACCESS_KEY_ID: 'AKIATESTOWNERCLI',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      AWS_REGION: kms.region,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    expect((await waiaas(['init'], env)).code).toBe(0);
  });
  afterAll(async () => {
    await kms?.close();
  });

  it('creates a local owner whose keystore holds the key under the passphrase, never in the clear', async () => {
    const created = await waiaas(
      ['owner', 'create', '--name', 'Alice', '--unlock-stdin', '--json'],
      env,
      `${passphrase}\n`,
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const owner = JSON.parse(created.stdout);
    expect(owner.id).toMatch(/^own_/);
    expect(owner.token).toMatch(/^waiaas_own_/);
    expect(owner.signer).toMatchObject({
      kind: 'local',
      publicKey: owner.publicKey,
      protection: { secondFactor: 'passphrase' },
    });

    const keystore = owner.signer.keystorePath as string;
    expect(statSync(keystore).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(keystore, 'utf8'));
    expect(file.publicKey).toBe(owner.publicKey);
    expect(readFileSync(keystore, 'utf8')).not.toContain(passphrase);
    expect(readFileSync(join(dataDir, 'waiaas.sqlite')).includes(Buffer.from(owner.token))).toBe(false);

    const shown = await waiaas(['owner', 'show', owner.id, '--json'], env);
    expect(JSON.parse(shown.stdout)).toEqual([
      expect.objectContaining({ id: owner.id, name: 'Alice', publicKey: owner.publicKey }),
    ]);

    // Changing the passphrase needs the current one; the wrong one changes nothing.
    const refused = await waiaas(
      ['keystore', 'change-passphrase', '--owner', owner.id, '--unlock-stdin'],
      env,
      'not the passphrase\nanother passphrase 123\n',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('KEYSTORE_WRONG_PASSPHRASE');
    expect(refused.stderr).not.toContain('another passphrase 123');
    const before = readFileSync(keystore, 'utf8');
    const changed = await waiaas(
      ['keystore', 'change-passphrase', '--owner', owner.id, '--unlock-stdin'],
      env,
      `${passphrase}\nanother passphrase 123\n`,
    );
    expect(changed.code).toBe(0);
    expect(readFileSync(keystore, 'utf8')).not.toBe(before);
    const back = await waiaas(
      ['keystore', 'change-passphrase', keystore, '--unlock-stdin'],
      env,
      `another passphrase 123\n${passphrase}\n`,
    );
    expect(back.code).toBe(0);
  });

  it('an owner created without a daemon goes through the owner service: owner.created is in the audit chain', async () => {
    // A data directory of its own: the other tests list this one's owners.
    const ownDir = join(mkdtempSync(join(tmpdir(), 'waiaas-owner-audit-')), 'data');
    const ownEnv = { ...env, WAIAAS_DATA_DIR: ownDir };
    expect((await waiaas(['init'], ownEnv)).code).toBe(0);
    const created = await waiaas(
      ['owner', 'create', '--name', 'Audited', '--unlock-stdin', '--json'],
      ownEnv,
      `${passphrase}\n`,
    );
    expect(created.code).toBe(0);
    const owner = JSON.parse(created.stdout);
    const store = await openStore({ sqlitePath: join(ownDir, 'waiaas.sqlite') });
    try {
      const entries = await sql<{ kind: string; actor_role: string; owner_id: string; details: string }>`
        select kind, actor_role, owner_id, details from audit_log where subject = ${owner.id}`.execute(
        store.db,
      );
      expect(entries.rows).toEqual([
        expect.objectContaining({ kind: 'owner.created', actor_role: 'operator', owner_id: owner.id }),
      ]);
      expect(JSON.parse(entries.rows[0]!.details)).toMatchObject({
        signer: 'local',
        publicKey: owner.publicKey,
      });
    } finally {
      await store.close();
    }
    // The chain it was appended to still verifies.
    const verified = await waiaas(['audit', 'verify', '--json'], ownEnv);
    expect(verified.code).toBe(0);
  });

  it('creates an aws-kms owner: the KMS key is made Ed25519 through the real SDK', async () => {
    const created = await waiaas(
      ['owner', 'create', '--name', 'Bob', '--signer', 'aws-kms', '--kms-endpoint', kms.endpoint, '--json'],
      env,
    );
    expect(created.code).toBe(0);
    const owner = JSON.parse(created.stdout);
    expect(owner.signer).toMatchObject({
      kind: 'aws-kms',
      region: kms.region,
      protection: { secondFactor: 'none' },
    });
    expect(kms.requests.map((request) => request.operation)).toEqual(
      expect.arrayContaining(['CreateKey', 'GetPublicKey']),
    );

    const listed = JSON.parse((await waiaas(['owner', 'show', '--json'], env)).stdout);
    expect(listed.map((entry: { name: string }) => entry.name)).toEqual(['Alice', 'Bob']);
  });

  it('refuses an aws-kms key id that is not an Ed25519 signing key', async () => {
    const keyId = kms.createKey('ECC_NIST_P256');
    const refused = await waiaas(
      [
        'owner',
        'create',
        '--name',
        'Carol',
        '--signer',
        'aws-kms',
        '--kms-endpoint',
        kms.endpoint,
        '--kms-key-id',
        keyId,
      ],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('OWNER_KEY_INVALID');
    const listed = JSON.parse((await waiaas(['owner', 'show', '--json'], env)).stdout);
    expect(listed.map((entry: { name: string }) => entry.name)).not.toContain('Carol');
  });
});
