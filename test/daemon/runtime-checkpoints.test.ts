/**
 * The daemon keeps the newest checkpoint the enclave sealed per wallet, on both engines: an older one
 * arriving late (two writers, a retry) never replaces a newer one.
 */
import { expect, it } from 'vitest';
import { enclaveCheckpointsOf, saveEnclaveCheckpoints } from '../../src/store/enclave-checkpoints.ts';
import { forEachEngine } from '../support/databases.ts';

forEachEngine((_engine, { makeStore }) => {
  it('keeps the highest sequence per wallet, and reads back the wallets asked for', async () => {
    const store = await makeStore();
    const checkpoint = (walletId: string, sequence: number, sealed: string) => ({
      walletId,
      sequence,
      policyVersion: sequence % 7,
      sealed,
    });
    await saveEnclaveCheckpoints(store.db, [
      checkpoint('w1', 1_700_000_000_000, 'AAAA'),
      checkpoint('w2', 5, 'BBBB'),
    ]);
    await saveEnclaveCheckpoints(store.db, [checkpoint('w1', 1_700_000_000_500, 'CCCC')]);
    await saveEnclaveCheckpoints(store.db, [checkpoint('w1', 1_700_000_000_100, 'DDDD')]);
    const all = await enclaveCheckpointsOf(store.db);
    expect(all.get('w1')).toEqual({
      walletId: 'w1',
      sequence: 1_700_000_000_500,
      policyVersion: 1_700_000_000_500 % 7,
      sealed: 'CCCC',
    });
    expect(all.get('w2')?.sealed).toBe('BBBB');
    expect([...(await enclaveCheckpointsOf(store.db, ['w2', 'w3'])).keys()]).toEqual(['w2']);
    expect((await enclaveCheckpointsOf(store.db, [])).size).toBe(0);
  });
});
