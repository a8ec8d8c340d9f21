import type { Command } from 'commander';

/**
 * `waiaas enclave`: the agent enclave process itself (src/enclave/main.ts, the code its attestation
 * measures; the daemon's supervisor starts it), and the operator's enclave commands `recover` and
 * `measure`. The process's own flags go through to it untouched: it parses them itself, so the
 * measured code decides what it accepts.
 */
export function register(program: Command): void {
  const enclave = program
    .command('enclave')
    .description(
      'the agent enclave process (the daemon starts it; no network, no database); recover, measure',
    )
    .usage('(--socket PATH | --vsock PORT) --state-dir DIR [options] | recover | measure')
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption('-h, --help', 'show help for a command')
    .addHelpText(
      'after',
      [
        '',
        'Process options (parsed by the enclave itself):',
        '  --socket PATH | --vsock PORT     where it listens',
        '  --state-dir DIR                  its own vault key, journal and attestation state',
        '  --attestation dev|nitro|none     the attestation provider (default dev)',
        '  --vault local|aws-kms            what seals agent seeds (default local: its own key)',
        '  --kms-key-id ID --kms-region R   the seal key, with --vault aws-kms',
        '',
        'Prints one JSON line {"event":"ready",…} on stdout once it listens; logs go to stderr.',
      ].join('\n'),
    )
    .action(async (_flags: unknown, command: Command) => {
      const { run } = await import('../../enclave/main.ts');
      process.exitCode = await run(command.args);
    });

  enclave
    .command('recover')
    .description(
      'hand the running enclave wallets from the database: sealed keys, newest checkpoint, the chain’s spent amount',
    )
    .option('--wallet <id...>', 'only these wallets (default: every wallet this instance serves)')
    .option('--json', 'JSON on stdout')
    .action(async (flags: { wallet?: string[]; json?: boolean }) => {
      const { run } = await import('./enclave-recover.ts');
      process.exitCode = await run([
        ...(flags.wallet ?? []).flatMap((id) => ['--wallet', id]),
        ...(flags.json ? ['--json'] : []),
      ]);
    });

  enclave
    .command('measure')
    .description('the enclave measurement (PCR0) the daemon pins: this checkout’s, or a Nitro image’s')
    .option('--nitro <file>', 'the JSON nitro-cli build-enclave (or describe-eif) printed')
    .option('--json', 'JSON on stdout')
    .action(async (flags: { nitro?: string; json?: boolean }) => {
      const { run } = await import('./enclave-measure.ts');
      process.exitCode = await run([
        ...(flags.nitro === undefined ? [] : ['--nitro', flags.nitro]),
        ...(flags.json ? ['--json'] : []),
      ]);
    });
}
