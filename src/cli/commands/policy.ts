import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { apiClient, clientOptions, ownerFactor } from '../api-client.ts';
import { printError } from '../output.ts';
import { withSpinner } from '../ui.ts';
import { jsonBigint } from './wallet.ts';

const help = `Usage (owner token in --token or WAIAAS_TOKEN):
  waiaas policy show WALLET_ID
  waiaas policy set WALLET_ID FILE [--unlock-stdin]`;

export async function run(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: clientOptions,
  });
  const [walletId, file] = positionals;
  if (!walletId || (subcommand !== 'show' && subcommand !== 'set') || (subcommand === 'set' && !file)) {
    printError(help);
    return 2;
  }
  const client = apiClient(values);
  if (subcommand === 'show') {
    console.log(JSON.stringify(await client.policy.get(walletId), jsonBigint, 2));
    return 0;
  }
  const policy = JSON.parse(readFileSync(file!, 'utf8'));
  const ownerUnlock = await ownerFactor(values['unlock-stdin']);
  const result = await withSpinner('signing the policy and replacing the on-chain limits…', () =>
    client.policy.set(walletId, policy, { ownerUnlock }),
  );
  console.log(
    values.json ? JSON.stringify(result, jsonBigint) : `policy v${policy.version} in force for ${walletId}`,
  );
  return 0;
}
