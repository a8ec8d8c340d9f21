import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WaiaasError } from '../../core/errors.ts';
import { formatSol, parseUnits, type Wallet } from '../../sdk/index.ts';
import { apiClient, clientOptions, ownerFactor } from '../api-client.ts';
import { printError } from '../output.ts';
import { bold, green, red, table, withSpinner, yellow } from '../ui.ts';

const help = `Usage (owner token in --token or WAIAAS_TOKEN; daemon in --url, WAIAAS_URL or the config):
  waiaas wallet create --name NAME --policy FILE
  waiaas wallet list
  waiaas wallet show WALLET_ID
  waiaas wallet freeze WALLET_ID
  waiaas wallet resume WALLET_ID
  waiaas wallet rotate WALLET_ID
  waiaas wallet withdraw WALLET_ID --to ADDRESS --amount SOL|all [--mint MINT --decimals N]
Options: --json (machine output), --unlock-stdin (second factor on stdin instead of a prompt)`;

const statusColour = (status: string) =>
  status === 'active' ? green(status) : status === 'frozen' ? red(status) : yellow(status);

export async function run(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: {
      ...clientOptions,
      name: { type: 'string' },
      policy: { type: 'string' },
      to: { type: 'string' },
      amount: { type: 'string' },
      mint: { type: 'string' },
      decimals: { type: 'string' },
    },
  });
  const client = () => apiClient(values);
  const out = (human: string, machine: unknown) =>
    console.log(values.json ? JSON.stringify(machine, jsonBigint) : human);
  const factor = () => ownerFactor(values['unlock-stdin']);
  const walletId = positionals[0];

  switch (subcommand) {
    case 'create': {
      if (!values.name || !values.policy) return usage('--name and --policy are required');
      const policy = JSON.parse(readFileSync(values.policy, 'utf8'));
      const ownerUnlock = await factor();
      const wallet = await withSpinner('creating the Squads multisig…', () =>
        client().wallets.create({ name: values.name!, policy }, { ownerUnlock }),
      );
      out(describeWallet(wallet), wallet);
      return 0;
    }
    case 'list': {
      const wallets = await client().wallets.list().toArray(1000);
      out(
        table(
          ['ID', 'NAME', 'STATUS', 'ADDRESS (deposit)', 'POLICY'],
          wallets.map((wallet) => [
            wallet.id,
            wallet.name,
            statusColour(wallet.status),
            wallet.vault,
            `v${wallet.policy.version}`,
          ]),
        ),
        wallets,
      );
      return 0;
    }
    case 'show': {
      if (!walletId) return usage('WALLET_ID is required');
      const api = client();
      const [wallet, balance] = await Promise.all([api.wallets.get(walletId), api.balance(walletId)]);
      out(`${describeWallet(wallet)}\n${bold('balance')}         ${formatSol(balance.sol)} SOL`, {
        wallet,
        balance,
      });
      return 0;
    }
    case 'freeze': {
      if (!walletId) return usage('WALLET_ID is required');
      const ownerUnlock = await factor();
      const result = await withSpinner('freezing: server block, then the on-chain transaction…', () =>
        client().wallets.freeze(walletId, { ownerUnlock }),
      );
      out(
        `${red('frozen')} ${walletId}${result.pending ? yellow(' (on-chain part pending: run freeze again)') : ''}`,
        result,
      );
      return 0;
    }
    case 'resume': {
      if (!walletId) return usage('WALLET_ID is required');
      const ownerUnlock = await factor();
      const result = await withSpinner('resuming…', () =>
        client().wallets.resume(walletId, {}, { ownerUnlock }),
      );
      out(`${green('active')} ${walletId}`, result);
      return 0;
    }
    case 'rotate': {
      if (!walletId) return usage('WALLET_ID is required');
      const ownerUnlock = await factor();
      const result = await withSpinner('rotating the agent key…', () =>
        client().wallets.rotateAgentKey(walletId, { ownerUnlock }),
      );
      out(`agent key rotated for ${walletId}`, result);
      return 0;
    }
    case 'withdraw': {
      if (!walletId || !values.to || !values.amount)
        return usage('WALLET_ID, --to and --amount are required');
      if (values.mint && !values.decimals && values.amount !== 'all')
        return usage('--decimals is required with --mint');
      const decimals = values.mint ? Number(values.decimals ?? 0) : 9;
      const amount = values.amount === 'all' ? ('all' as const) : parseUnits(values.amount, decimals);
      const ownerUnlock = await factor();
      const result = await withSpinner('withdrawing…', () =>
        client().wallets.withdraw(
          walletId,
          { to: values.to!, amount, ...(values.mint ? { mint: values.mint } : {}) },
          { ownerUnlock },
        ),
      );
      out(`withdrawn to ${values.to}`, result);
      return 0;
    }
    default:
      return usage();
  }
}

function usage(problem?: string): number {
  printError(problem ? `${problem}\n${help}` : help);
  return 2;
}

export const jsonBigint = (_key: string, value: unknown) =>
  typeof value === 'bigint' ? value.toString() : value;

function describeWallet(wallet: Wallet): string {
  const rows = [
    ['wallet', `${wallet.id} (${wallet.name})`],
    ['status', statusColour(wallet.status)],
    ['address', `${wallet.vault}  (deposit here)`],
    ['multisig', wallet.multisig],
    ['owner key', wallet.ownerPublicKey],
    ['agent key', wallet.agentPublicKey ?? '-'],
    ['policy', `v${wallet.policy.version}`],
  ];
  return rows.map(([label, value]) => `${bold((label ?? '').padEnd(15))} ${value}`).join('\n');
}

export { WaiaasError };
