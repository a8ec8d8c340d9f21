import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import type { Monitor } from '../../src/daemon/monitor/index.ts';
import { enclaveChannelKey } from '../../src/daemon/runtime/daemon-secret.ts';
import { CHECKPOINT_CONTEXT, type CheckpointBody } from '../../src/enclave/checkpoint.ts';
import { localVaultWithKey } from '../../src/keys/vault/local-vault.ts';
import { bearer, createOwnerWalletSession, OWNER_PASSPHRASE, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { directSignVerdict } from '../support/direct-sign.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;
const SOL = 1_000_000_000n;

describeWithSquads('halting the enclave: the monitor’s freeze stops L2 at once', () => {
  let daemon: TestDaemon;
  let monitor: Monitor;
  let setup: Setup;
  let bystander: Setup;
  /** A connection of its own to the enclave's socket, with the channel key: what a compromised daemon would use. */
  let direct: EnclaveClient;

  /** The enclave's verdict on a valid 0.01 SOL spending-limit transfer, asked directly. */
  const directVerdict = async (target: Setup): Promise<string> =>
    directSignVerdict(
      direct,
      { id: target.wallet.id, multisig: target.wallet.multisig, agent: target.wallet.agentPublicKey },
      SOL / 100n,
      (await daemon.runtime.chain.recentBlockhash()).blockhash,
    );

  const restart = async (wipe: boolean) => {
    const enclaveDir = join(daemon.dataDir, 'enclave');
    const restarts = daemon.runtime.enclave.status().restarts;
    if (wipe) {
      unlinkSync(join(enclaveDir, 'journal'));
      unlinkSync(join(enclaveDir, 'state-key.sealed'));
      rmSync(join(enclaveDir, 'dev-attestation'), { recursive: true });
    }
    process.kill(daemon.runtime.enclave.status().pid!, 'SIGKILL');
    await expect
      .poll(() => daemon.runtime.enclave.status(), { timeout: 60_000, interval: 100 })
      .toMatchObject({ state: 'up', restarts: restarts + 1 });
  };

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-halt-'));
    writeFileSync(join(dataDir, 'config.toml'), 'monitor_refusals = 2\nmonitor_refusals_seconds = 300\n');
    daemon = await startTestDaemon({ dataDir });
    monitor = daemon.runtime.services.monitor;
    await monitor.runOnce();
    setup = await createOwnerWalletSession(daemon.app, daemon.runtime.store, starterPolicy());
    bystander = await createOwnerWalletSession(daemon.app, daemon.runtime.store, starterPolicy());
    direct = new EnclaveClient({
      socketPath: join(dataDir, 'enclave', 'enclave.sock'),
      channelKey: enclaveChannelKey(daemon.runtime.daemonSecret),
    });
  }, 120_000);

  afterAll(async () => {
    direct?.close();
    await daemon?.close();
  });

  it('signs before; after the monitor’s freeze it refuses a direct request for that wallet at once', async () => {
    expect(await directVerdict(setup)).toBe('signed');
    for (let index = 0; index < 2; index++) {
      const refused = await daemon.app.inject({
        method: 'POST',
        url: `/v1/wallets/${setup.wallet.id}/transfers`,
        headers: bearer(setup.session.token),
        payload: { to: Keypair.generate().publicKey.toBase58(), amount: String(3n * SOL) },
      });
      expect(refused.json().code).toBe('POLICY_PER_TX_LIMIT');
    }
    expect(await monitor.runOnce()).toEqual([expect.objectContaining({ walletId: setup.wallet.id })]);

    // No wait, no owner: the freeze returned after the enclave had taken the halt.
    expect(await directVerdict(setup)).toBe('WALLET_FROZEN@enclave/HALTED');
    expect(await directVerdict(bystander)).toBe('signed');
    const halted = await daemon.runtime.store.db
      .selectFrom('audit_log')
      .select('details')
      .where('kind', '=', 'enclave.halted')
      .where('wallet_id', '=', setup.wallet.id)
      .execute();
    expect(halted.map((row) => JSON.parse(row.details))).toEqual([
      { reason: 'monitor:repeated_refusals', policyVersion: 1 },
    ]);
    // The halt is in the wallet's checkpoint, which the enclave handed out with it.
    const row = await daemon.runtime.store.db
      .selectFrom('enclave_checkpoints')
      .selectAll()
      .where('wallet_id', '=', setup.wallet.id)
      .executeTakeFirstOrThrow();
    const vault = localVaultWithKey(
      new Uint8Array(readFileSync(join(daemon.dataDir, 'enclave', 'vault.key'))),
    );
    const body = JSON.parse(
      Buffer.from(
        await vault.unseal(Buffer.from(row.sealed, 'base64'), CHECKPOINT_CONTEXT(setup.wallet.id)),
      ).toString('utf8'),
    ) as CheckpointBody;
    expect(body.halt).toMatchObject({ version: 1 });
  }, 60_000);

  it('stays halted across a restart and a wiped state directory; the database’s policy does not lift it', async () => {
    await restart(false);
    expect(await directVerdict(setup)).toBe('WALLET_FROZEN@enclave/HALTED');
    await restart(true);
    expect(await directVerdict(setup)).toBe('WALLET_FROZEN@enclave/HALTED');
    expect(await directVerdict(bystander)).toBe('signed');
    // The policy in force, handed in again by anyone, changes nothing: it is not newer.
    const bundle = JSON.parse(
      (
        await daemon.runtime.store.db
          .selectFrom('wallets')
          .select('policy_bundle')
          .where('id', '=', setup.wallet.id)
          .executeTakeFirstOrThrow()
      ).policy_bundle,
    );
    expect(await direct.setPolicy(bundle)).toMatchObject({ unchanged: true, resumed: false });
    expect(await directVerdict(setup)).toBe('WALLET_FROZEN@enclave/HALTED');
  }, 180_000);

  it('only the owner resumes it: a newer owner-signed policy', async () => {
    const resumed = await daemon.app.inject({
      method: 'POST',
      url: `/v1/wallets/${setup.wallet.id}/resume`,
      headers: bearer(setup.owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
      payload: {},
    });
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json()).toMatchObject({ status: 'active', policyVersion: 2, enclave: { status: 'done' } });
    expect(await directVerdict(setup)).toBe('signed');
  }, 60_000);

  it('a halt needs no owner: any replica may stop a wallet, never start one', async () => {
    expect(await direct.halt(bystander.wallet.id, 'test')).toMatchObject({
      halted: [{ walletId: bystander.wallet.id, policyVersion: 1, unchanged: false }],
    });
    expect(await directVerdict(bystander)).toBe('WALLET_FROZEN@enclave/HALTED');
  });
});
