import type { Command } from 'commander';
import { type JsonFlags, jsonOption } from '../flags.ts';

export function register(program: Command): void {
  jsonOption(
    program
      .command('start')
      .description('run the daemon (and the embedded localnet on network localnet) until Ctrl-C')
      .addHelpText(
        'after',
        '\nLogs go to stderr; stdout has where everything is (with --json: one JSON document).',
      ),
    'print where everything is as one JSON document',
  ).action(async (flags: JsonFlags) => {
    const { serve } = await import('../serve.ts');
    process.exitCode = await serve({ json: flags.json });
  });
}
