/**
 * The `waiaas` command line: one commander program, one small module per command. A command module
 * exports `register(program)`, declares its options and arguments there (so `--help` works without
 * loading anything heavy) and loads what it runs inside its action. Adding a command: write
 * src/cli/commands/<name>.ts with `register`, and add it to `commands` below.
 */
import { Command } from 'commander';
import { version } from '../core/version.ts';
import * as approvals from './commands/approvals.ts';
import * as attestation from './commands/attestation.ts';
import * as audit from './commands/audit.ts';
import * as enclave from './commands/enclave-process.ts';
import * as init from './commands/init.ts';
import * as keystore from './commands/keystore.ts';
import * as kmsPolicy from './commands/kms-policy.ts';
import * as localnet from './commands/localnet.ts';
import * as mcp from './commands/mcp.ts';
import * as operator from './commands/operator.ts';
import * as owner from './commands/owner.ts';
import * as policy from './commands/policy.ts';
import * as programs from './commands/programs.ts';
import * as quickstart from './commands/quickstart.ts';
import * as session from './commands/session.ts';
import * as start from './commands/start.ts';
import * as transfers from './commands/transfers.ts';
import * as wallet from './commands/wallet.ts';
import * as webhooks from './commands/webhooks.ts';

export interface CommandModule {
  register(program: Command): void;
}

/** In the order `waiaas --help` lists them: set-up and running first, then the owner's, then tools. */
export const commands: readonly CommandModule[] = [
  init,
  start,
  quickstart,
  localnet,
  programs,
  owner,
  keystore,
  wallet,
  policy,
  approvals,
  transfers,
  session,
  webhooks,
  operator,
  audit,
  attestation,
  mcp,
  enclave,
  kmsPolicy,
];

export function createProgram(): Command {
  const program = new Command('waiaas')
    .description('WAIaaS: wallets for AI agents on Solana, within limits their owner sets')
    .version(version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run it with --help for its usage)')
    .configureOutput({
      outputError: (message, write) => write(`waiaas: ${message.replace(/^error: /, '')}`),
    })
    .addHelpText(
      'after',
      [
        '',
        'Configuration: <data dir>/config.toml, overridden by WAIAAS_* environment variables',
        '(README: Configuration). Owner commands take the owner token in --token or WAIAAS_TOKEN and ask',
        "for the owner's second factor without echoing it, or read it from standard input with --unlock-stdin.",
        'Every command takes --help; most take --json for scripts.',
      ].join('\n'),
    )
    .exitOverride();
  for (const command of commands) command.register(program);
  return program;
}

/** Every command and subcommand, as the words a user types (for `--help` checks and docs). */
export function commandPaths(program: Command): string[][] {
  const paths: string[][] = [];
  const walk = (command: Command, prefix: string[]) => {
    for (const sub of command.commands) {
      const path = [...prefix, sub.name()];
      paths.push(path);
      walk(sub, path);
    }
  };
  walk(program, []);
  return paths;
}
