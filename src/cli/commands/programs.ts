import { parseArgs } from 'node:util';
import { fetchProgramBinary } from '../../localnet/fetch-program.ts';
import { printError } from '../output.ts';

const help = 'Usage: waiaas programs fetch --rpc URL [--out PATH]';

export async function run(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'fetch') {
    printError(help);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: { rpc: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  if (!values.rpc) {
    printError(`--rpc is required\n${help}`);
    return 2;
  }
  const result = await fetchProgramBinary({
    rpcUrl: values.rpc,
    ...(values.out ? { outPath: values.out } : {}),
  });
  console.log(JSON.stringify(result));
  return 0;
}
