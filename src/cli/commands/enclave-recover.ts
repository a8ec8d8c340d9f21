/**
 * `waiaas enclave recover [--wallet ID …] [--json]`: hands the running enclave the named wallets (or
 * every wallet) from the database: sealed agent keys, newest checkpoint, and for a wallet it has no
 * state of its own for, the spending limits on chain. The daemon does the same on every start of the
 * enclave; this is for an instance told to take wallets over, or after wiping its state on purpose.
 * Recovered wallets get an `enclave.recovered` audit entry and a fresh checkpoint.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, resolveRpcUrl } from '../../daemon/config.ts';
import { EnclaveClient } from '../../daemon/enclave-client.ts';
import { enclaveChannelKey, loadDaemonSecret } from '../../daemon/runtime/daemon-secret.ts';
import { recoverWallets } from '../../daemon/runtime/enclave-recovery.ts';
import { CHECKPOINT_BATCH } from '../../enclave/protocol.ts';
import { createChainClient } from '../../solana/chain-client.ts';
import { saveEnclaveCheckpoints } from '../../store/enclave-checkpoints.ts';
import { openStore } from '../../store/index.ts';
import { printError } from '../output.ts';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      wallet: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
  });
  const config = loadConfig();
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
      ...(values.wallet ? { walletIds: values.wallet } : {}),
      log: printError,
    });
    const recovered = report.wallets
      .filter((wallet) => wallet.error === undefined)
      .map((wallet) => wallet.walletId);
    for (let index = 0; index < recovered.length; index += CHECKPOINT_BATCH)
      await saveEnclaveCheckpoints(
        store.db,
        await client.checkpoint(recovered.slice(index, index + CHECKPOINT_BATCH)),
      );
    if (values.json) {
      console.log(JSON.stringify(report.wallets));
    } else {
      for (const wallet of report.wallets) {
        const raised = Object.entries(wallet.raisedToChain)
          .map(([asset, amount]) => `${asset}+${amount}`)
          .join(' ');
        console.log(
          `${wallet.walletId}  ${wallet.restoredFrom}  keys ${wallet.keys.loaded.length}${wallet.keys.failed.length ? ` (${wallet.keys.failed.length} failed)` : ''}  policy v${wallet.policyVersion ?? '-'}${wallet.halted ? '  HALTED' : ''}${raised ? `  raised to chain: ${raised}` : ''}${wallet.error ? `  error ${wallet.error.code}` : ''}`,
        );
      }
      console.log(
        `${report.wallets.length} wallet(s); ${report.recovered.length} restored without the enclave's own state`,
      );
    }
    return report.wallets.some((wallet) => wallet.error !== undefined) ? 1 : 0;
  } finally {
    client.close();
    chain.close();
    await store.close();
  }
}
