import { parseArgs } from 'node:util';
import { formatUnits, type Transfer } from '../../sdk/index.ts';
import { apiClient, clientOptions, ownerFactor } from '../api-client.ts';
import { printError } from '../output.ts';
import { confirm } from '../prompt.ts';
import { bold, table, withSpinner } from '../ui.ts';
import { jsonBigint } from './wallet.ts';

const help = `Usage (owner token in --token or WAIAAS_TOKEN):
  waiaas approvals [list]
  waiaas approvals approve TRANSFER_ID [--yes] [--unlock-stdin]
  waiaas approvals reject TRANSFER_ID [--yes] [--unlock-stdin]
Options: --json`;

const amountOf = (transfer: Transfer) =>
  transfer.asset === 'SOL'
    ? `${formatUnits(transfer.amount, 9)} SOL`
    : `${transfer.amount} base units of ${transfer.asset}`;

export function describeTransfer(transfer: Transfer): string {
  const rows: [string, string][] = [
    ['transfer', transfer.id],
    ['wallet', transfer.walletId],
    ['amount', amountOf(transfer)],
    ['to', transfer.to],
    ['tier', transfer.tier],
    ['status', transfer.status],
    ...(transfer.memo ? ([['memo', transfer.memo]] as [string, string][]) : []),
    ...(transfer.expiresAt ? ([['expires', transfer.expiresAt]] as [string, string][]) : []),
  ];
  return rows.map(([label, value]) => `${bold(label.padEnd(10))} ${value}`).join('\n');
}

export async function run(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  const subcommand = first === undefined || first.startsWith('--') ? 'list' : first;
  const { values, positionals } = parseArgs({
    args: first === undefined || first.startsWith('--') ? args : rest,
    strict: true,
    allowPositionals: true,
    options: clientOptions,
  });
  const client = apiClient(values);

  if (subcommand === 'list') {
    const pending = await client.approvals.list().toArray(1000);
    if (values.json) console.log(JSON.stringify(pending, jsonBigint));
    else if (pending.length === 0) console.log('no transfers wait for your approval');
    else
      console.log(
        table(
          ['TRANSFER', 'WALLET', 'AMOUNT', 'TO', 'EXPIRES'],
          pending.map((transfer) => [
            transfer.id,
            transfer.walletId,
            amountOf(transfer),
            transfer.to,
            transfer.expiresAt ?? '-',
          ]),
        ),
      );
    return 0;
  }
  if (subcommand !== 'approve' && subcommand !== 'reject') {
    printError(help);
    return 2;
  }
  const transferId = positionals[0];
  if (!transferId) {
    printError(`TRANSFER_ID is required\n${help}`);
    return 2;
  }
  const transfer = await client.transfers.get(transferId);
  if (!values.json) console.log(describeTransfer(transfer));
  if (
    !(await confirm(
      `${subcommand === 'approve' ? 'Approve and execute' : 'Reject'} this transfer?`,
      values.yes,
    ))
  ) {
    console.log('nothing done');
    return 1;
  }
  const ownerUnlock = await ownerFactor(values['unlock-stdin']);
  const result = await withSpinner(
    subcommand === 'approve' ? 'approving and executing on chain…' : 'rejecting…',
    () =>
      subcommand === 'approve'
        ? client.approvals.approve(transferId, { ownerUnlock })
        : client.approvals.reject(transferId, { ownerUnlock }),
  );
  console.log(values.json ? JSON.stringify(result, jsonBigint) : `${transferId}: ${result.status}`);
  return 0;
}
