/**
 * `waiaas enclave recover [--wallet ID …] [--json]`: hands the running enclave the named wallets (or
 * every wallet it serves) from the database: sealed agent keys, newest checkpoint, and for a wallet it has no
 * state of its own for, the spending limits on chain. The daemon does the same on every start of the
 * enclave; this is for an instance told to take wallets over, or after wiping its state on purpose.
 * Recovered wallets get an `enclave.recovered` audit entry and a fresh checkpoint.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../daemon/config.ts';
import { recoverLocalEnclave } from '../../daemon/runtime/recover-local-enclave.ts';
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
  const report = await recoverLocalEnclave(loadConfig(), { walletIds: values.wallet, log: printError });
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
}
