import type { Command } from 'commander';
import { type JsonFlags, jsonOption } from '../flags.ts';

export function register(program: Command): void {
  jsonOption(
    program
      .command('quickstart')
      .description(
        'start on localnet and, the first time, set up an owner, a funded wallet and an agent session',
      )
      .addHelpText(
        'after',
        [
          '',
          'The first run fetches the Squads v4 program when it is missing (from WAIAAS_PROGRAM_SOURCE_RPC,',
          'default mainnet-beta), or stops before creating anything and says how to provide it. A set-up',
          'interrupted half-way is finished by the next run, never done twice.',
        ].join('\n'),
      ),
    'print the daemon and the set-up as JSON documents, one per line',
  ).action(async (flags: JsonFlags) => {
    const { serve } = await import('../serve.ts');
    const { ensureSquadsProgram } = await import('../squads-program.ts');
    const { quickstartSetUp, requireLocalnet } = await import('../quickstart-setup.ts');
    process.exitCode = await serve({
      json: flags.json,
      beforeInit: async (config) => {
        requireLocalnet(config);
        await ensureSquadsProgram(config, (line) => process.stderr.write(line));
      },
      afterStart: (started) => quickstartSetUp(started, flags),
    });
  });
}
