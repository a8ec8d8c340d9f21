/**
 * `waiaas enclave recover` as a use case: hands this data directory's running enclave instance (over
 * its socket, with the deployment's channel key) the named wallets, or every wallet, from the
 * database, then stores the checkpoints it returns, so the recovered state survives its next restart.
 * The daemon does the same on every start of the enclave (runtime/enclave.ts); the CLI command only
 * parses its flags and prints the report.
 */
import { join } from 'node:path';
import { CHECKPOINT_BATCH } from '../../enclave/protocol.ts';
import { createChainClient } from '../../solana/chain-client.ts';
import { saveEnclaveCheckpoints } from '../../store/enclave-checkpoints.ts';
import { openStore, walletsServedBy } from '../../store/index.ts';
import { type Config, resolveRpcUrl } from '../config.ts';
import { EnclaveClient } from '../enclave-client.ts';
import { enclaveInstanceIdFor } from '../enclave-router.ts';
import { enclaveChannelKey, loadDaemonSecret } from './daemon-secret.ts';
import { type RecoveryReport, recoverWallets } from './enclave-recovery.ts';

export interface RecoverLocalEnclaveOptions {
  /**
   * Only these wallets; default the wallets this data directory's instance serves (another instance's
   * wallets are taken over by the router, which moves their assignment too).
   */
  readonly walletIds?: readonly string[] | undefined;
  readonly log?: (line: string) => void;
}

export async function recoverLocalEnclave(
  config: Config,
  options: RecoverLocalEnclaveOptions = {},
): Promise<RecoveryReport> {
  const store = await openStore({
    ...(config.dbUrl ? { url: config.dbUrl } : {}),
    sqlitePath: config.sqlitePath,
  });
  const client = new EnclaveClient({
    socketPath: join(config.dataDir, 'enclave', 'enclave.sock'),
    channelKey: enclaveChannelKey(loadDaemonSecret(config.dataDir)),
    timeoutMs: 60_000,
  });
  const chain = createChainClient(resolveRpcUrl(config));
  try {
    const report = await recoverWallets({
      client,
      store,
      chain: chain.connection,
      walletIds: options.walletIds ?? (await walletsServedBy(store.db, enclaveInstanceIdFor(config.dataDir))),
      ...(options.log ? { log: options.log } : {}),
    });
    const recovered = report.wallets
      .filter((wallet) => wallet.error === undefined)
      .map((wallet) => wallet.walletId);
    for (let index = 0; index < recovered.length; index += CHECKPOINT_BATCH)
      await saveEnclaveCheckpoints(
        store.db,
        await client.checkpoint(recovered.slice(index, index + CHECKPOINT_BATCH)),
      );
    return report;
  } finally {
    client.close();
    chain.close();
    await store.close();
  }
}
