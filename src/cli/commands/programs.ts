import type { Command } from 'commander';
import { type JsonFlags, jsonOption } from '../flags.ts';
import { print } from '../output.ts';

export function register(program: Command): void {
  const programs = program
    .command('programs')
    .description('the on-chain programs the localnet runs (the Squads v4 binary)');
  jsonOption(
    programs
      .command('fetch')
      .description(
        'download the Squads v4 program from a cluster and pin it (written only if its sha256 matches)',
      )
      .requiredOption(
        '--rpc <url>',
        'a Solana JSON-RPC URL of a cluster that has the program (e.g. mainnet-beta)',
      )
      .option(
        '--out <path>',
        'where to write it (default: WAIAAS_SQUADS_SO, else ~/.cache/waiaas/programs/squads_v4.so)',
      ),
  ).action(async (flags: JsonFlags & { rpc: string; out?: string }) => {
    const { fetchProgramBinary } = await import('../../localnet/fetch-program.ts');
    const out = flags.out ?? process.env.WAIAAS_SQUADS_SO;
    const result = await fetchProgramBinary({ rpcUrl: flags.rpc, ...(out ? { outPath: out } : {}) });
    print(
      flags,
      () =>
        `Squads v4 program written to ${result.path} (${result.size} bytes, sha256 ${result.sha256}: the pinned one)`,
      result,
    );
  });
}
