import type { Command } from 'commander';
import type { Transfer } from '../../sdk/index.ts';
import { apiClient, ownerFactor } from '../api-client.ts';
import { describeTransfer, statusColour } from '../describe.ts';
import { type ApiFlags, apiOptions, type OwnerActFlags, ownerActOptions } from '../flags.ts';
import { print } from '../output.ts';
import { confirm } from '../prompt.ts';
import { table, withSpinner } from '../ui.ts';
import { formatAmount, tokenDecimals } from '../units.ts';

export function register(program: Command): void {
  const approvals = program
    .command('approvals')
    .description('transfers above the delay tier, waiting for your approval');

  apiOptions(
    approvals.command('list', { isDefault: true }).description('what waits for your approval (the default)'),
  ).action(async (flags: ApiFlags) => {
    const client = apiClient(flags);
    const pending = await client.approvals.list().toArray(1000);
    const amounts = await amountsOf(client, pending);
    print(
      flags,
      () =>
        pending.length === 0
          ? 'no transfers wait for your approval'
          : table(
              ['TRANSFER', 'WALLET', 'AMOUNT', 'TO', 'EXPIRES'],
              pending.map((transfer) => [
                transfer.id,
                transfer.walletId,
                amounts.get(transfer.id) ?? '',
                transfer.to,
                transfer.expiresAt ?? '-',
              ]),
            ),
      pending,
    );
  });

  for (const decision of ['approve', 'reject'] as const) {
    ownerActOptions(
      approvals
        .command(decision)
        .description(
          decision === 'approve'
            ? 'approve a transfer: your Owner Key signs, and it executes on chain'
            : 'reject a transfer (its proposal is voted down on chain)',
        )
        .argument('<transfer-id>'),
      true,
    ).action(async (transferId: string, flags: OwnerActFlags) => {
      const client = apiClient(flags);
      const transfer = await client.transfers.get(transferId);
      const decimals =
        transfer.asset === 'SOL'
          ? undefined
          : (await tokenDecimals(client, transfer.walletId)).get(transfer.asset);
      if (!flags.json) process.stdout.write(`${describeTransfer(transfer, decimals)}\n`);
      const question =
        decision === 'approve' ? 'Approve and execute this transfer?' : 'Reject this transfer?';
      if (!(await confirm(question, flags.yes))) {
        process.stderr.write('nothing done\n');
        process.exitCode = 1;
        return;
      }
      const ownerUnlock = await ownerFactor(flags.unlockStdin);
      const result = await withSpinner(
        decision === 'approve' ? 'approving and executing on chain…' : 'rejecting…',
        () =>
          decision === 'approve'
            ? client.approvals.approve(transferId, { ownerUnlock })
            : client.approvals.reject(transferId, { ownerUnlock }),
      );
      print(flags, () => `${transferId}: ${statusColour(result.status)}`, result);
    });
  }
}

/** Each transfer's amount in human units (token decimals read once per wallet). */
export async function amountsOf(
  client: ReturnType<typeof apiClient>,
  transfers: readonly Transfer[],
): Promise<Map<string, string>> {
  const byWallet = new Map<string, Promise<Map<string, number>>>();
  const result = new Map<string, string>();
  for (const transfer of transfers) {
    let decimals: number | undefined;
    if (transfer.asset !== 'SOL') {
      if (!byWallet.has(transfer.walletId))
        byWallet.set(transfer.walletId, tokenDecimals(client, transfer.walletId));
      decimals = (await byWallet.get(transfer.walletId)!).get(transfer.asset);
    }
    result.set(transfer.id, formatAmount(transfer.asset, transfer.amount, decimals));
  }
  return result;
}
