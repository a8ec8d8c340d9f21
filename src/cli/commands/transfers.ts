import { type Command, Option } from 'commander';
import { apiClient } from '../api-client.ts';
import { describeTransfer, statusColour } from '../describe.ts';
import { type ApiFlags, apiOptions } from '../flags.ts';
import { print } from '../output.ts';
import { confirm } from '../prompt.ts';
import { table } from '../ui.ts';
import { tokenDecimals } from '../units.ts';
import { amountsOf } from './approvals.ts';

export function register(program: Command): void {
  const transfers = program
    .command('transfers')
    .description("a wallet's transfers: history, one transfer, cancel a delayed one");

  apiOptions(
    transfers
      .command('list')
      .description("the wallet's transfers, newest first")
      .argument('<wallet-id>')
      .addOption(
        new Option('--limit <n>', 'how many').default('50').argParser((value) => String(Number(value))),
      ),
  ).action(async (walletId: string, flags: ApiFlags & { limit: string }) => {
    const client = apiClient(flags);
    const limit = Math.max(1, Math.min(1000, Number(flags.limit) || 50));
    const items = await client.transfers.list(walletId, { limit: Math.min(limit, 100) }).toArray(limit);
    const amounts = await amountsOf(client, items);
    print(
      flags,
      () =>
        items.length === 0
          ? `no transfers from ${walletId} yet`
          : table(
              ['TRANSFER', 'CREATED', 'AMOUNT', 'TO', 'TIER', 'STATUS'],
              items.map((transfer) => [
                transfer.id,
                transfer.createdAt,
                amounts.get(transfer.id) ?? '',
                transfer.to,
                transfer.tier,
                statusColour(transfer.status),
              ]),
            ),
      items,
    );
  });

  apiOptions(
    transfers.command('show').description('one transfer, all it is').argument('<transfer-id>'),
  ).action(async (transferId: string, flags: ApiFlags) => {
    const client = apiClient(flags);
    const transfer = await client.transfers.get(transferId);
    const decimals =
      transfer.asset === 'SOL'
        ? undefined
        : (await tokenDecimals(client, transfer.walletId)).get(transfer.asset);
    print(flags, () => describeTransfer(transfer, decimals), transfer);
  });

  apiOptions(
    transfers
      .command('cancel')
      .description('cancel a delayed transfer before it is signed (owner)')
      .argument('<transfer-id>')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(async (transferId: string, flags: ApiFlags & { yes?: boolean }) => {
    const client = apiClient(flags);
    const transfer = await client.transfers.get(transferId);
    if (!flags.json) process.stdout.write(`${describeTransfer(transfer)}\n`);
    if (!(await confirm('Cancel this transfer?', flags.yes))) {
      process.stderr.write('nothing done\n');
      process.exitCode = 1;
      return;
    }
    const cancelled = await client.approvals.cancel(transferId);
    print(flags, () => `${transferId}: ${statusColour(cancelled.status)}`, cancelled);
  });
}
