import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { checkAttestedStatement } from '../../src/daemon/runtime/attested-statement.ts';
import { activeAgentKeys } from '../../src/store/index.ts';
import { seedOwner } from '../audit/fixtures.ts';
import { forEachEngine } from '../support/databases.ts';

const commit = (statement: string) => new Uint8Array(createHash('sha256').update(statement).digest());

forEachEngine((_engine, { makeStore }) => {
  it('accepts an enclave whose committed statement lists every stored agent key', async () => {
    const store = await makeStore();
    const { walletId } = await seedOwner(store);
    const [key] = await activeAgentKeys(store.db, walletId);
    const statement = JSON.stringify({ wallets: [{ walletId, agentKeys: [key!.publicKey] }] });
    await expect(
      checkAttestedStatement(statement, commit(statement), store, new Set([walletId])),
    ).resolves.toBeUndefined();
  });

  it('refuses a statement the document does not commit to (a host swapping it in)', async () => {
    const store = await makeStore();
    const { walletId } = await seedOwner(store);
    const [key] = await activeAgentKeys(store.db, walletId);
    const statement = JSON.stringify({ wallets: [{ walletId, agentKeys: [key!.publicKey] }] });
    const other = JSON.stringify({ wallets: [] });
    await expect(
      checkAttestedStatement(statement, commit(other), store, new Set([walletId])),
    ).rejects.toMatchObject({
      code: 'ATTESTATION_INVALID',
      details: { reason: 'STATEMENT_MISMATCH' },
    });
    await expect(checkAttestedStatement(statement, null, store, new Set([walletId]))).rejects.toMatchObject({
      details: { reason: 'STATEMENT_MISMATCH' },
    });
  });

  it('refuses an enclave that does not hold a stored agent key', async () => {
    const store = await makeStore();
    const { walletId } = await seedOwner(store);
    const [key] = await activeAgentKeys(store.db, walletId);
    const statement = JSON.stringify({ wallets: [{ walletId, agentKeys: [] }] });
    await expect(
      checkAttestedStatement(statement, commit(statement), store, new Set([walletId])),
    ).rejects.toMatchObject({
      code: 'ATTESTATION_INVALID',
      details: { reason: 'AGENT_KEYS_MISSING', keys: [key!.publicKey] },
    });
    // Another instance's wallets are not this one's to hold.
    await expect(
      checkAttestedStatement(statement, commit(statement), store, new Set(['wal_served_elsewhere'])),
    ).resolves.toBeUndefined();
  });
});
