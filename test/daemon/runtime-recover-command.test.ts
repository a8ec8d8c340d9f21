/**
 * `waiaas enclave recover`: hands the running enclave the named wallets from the database (sealed
 * keys, newest checkpoint, and the chain for a wallet it does not hold), and stores fresh checkpoints.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { run as recover } from '../../src/cli/commands/enclave-recover.ts';
import { enclaveCheckpointsOf } from '../../src/store/enclave-checkpoints.ts';
import { createOwnerWalletSession } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

describeWithSquads('waiaas enclave recover', () => {
  let daemon: TestDaemon;
  const saved = { ...process.env };

  beforeAll(async () => {
    daemon = await startTestDaemon({ dataDir: mkdtempSync(join(tmpdir(), 'waiaas-recover-cli-')) });
    process.env.WAIAAS_DATA_DIR = daemon.dataDir;
    process.env.WAIAAS_RPC_URL = daemon.localnet.rpcUrl;
  }, 120_000);

  afterAll(async () => {
    process.env = saved;
    vi.restoreAllMocks();
    await daemon?.close();
  });

  it('recovers the named wallets into the running enclave and checkpoints them', async () => {
    const { wallet } = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    const before =
      (await enclaveCheckpointsOf(daemon.runtime.store.db, [wallet.id])).get(wallet.id)?.sequence ?? 0;
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    expect(await recover(['--wallet', wallet.id, '--json'])).toBe(0);
    expect(JSON.parse(lines[0]!)).toEqual([
      expect.objectContaining({
        walletId: wallet.id,
        restoredFrom: 'own-state',
        keys: { loaded: [{ walletId: wallet.id, publicKey: wallet.agentPublicKey }], failed: [] },
        policyVersion: 1,
        halted: false,
      }),
    ]);
    const after = (await enclaveCheckpointsOf(daemon.runtime.store.db, [wallet.id])).get(wallet.id);
    expect(after?.sequence).toBeGreaterThan(before);
  });

  it('without --wallet, recovers only the wallets this instance serves, not another instance’s', async () => {
    const { wallet: own } = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    const { wallet: elsewhere } = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    await daemon.runtime.store.db
      .updateTable('wallet_assignments')
      .set({ instance_id: 'enc_another_replica' })
      .where('wallet_id', '=', elsewhere.id)
      .execute();
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    expect(await recover(['--json'])).toBe(0);
    const recovered = (JSON.parse(lines[0]!) as { walletId: string }[]).map((entry) => entry.walletId);
    expect(recovered).toContain(own.id);
    expect(recovered).not.toContain(elsewhere.id);
  });
});
