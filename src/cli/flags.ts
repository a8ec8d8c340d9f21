/**
 * The options shared by commands, declared once so every command spells them the same way: --json
 * for scripts, --url and --token for the daemon, and --unlock-stdin for the owner's second factor.
 */
import type { Command } from 'commander';

export interface JsonFlags {
  json?: boolean;
}

export interface ApiFlags extends JsonFlags {
  url?: string;
  token?: string;
}

export interface OwnerActFlags extends ApiFlags {
  unlockStdin?: boolean;
  yes?: boolean;
}

export const UNLOCK_STDIN_HELP =
  "read the owner's second factor (keystore passphrase or MFA code) from the first line of standard input instead of a prompt";

export const jsonOption = (command: Command, what = 'JSON on stdout; amounts in base units'): Command =>
  command.option('--json', what);

/** --url, --token (for whom: the owner, the operator), --json. */
export const apiOptions = (command: Command, tokenOf: 'owner' | 'operator' = 'owner'): Command =>
  jsonOption(
    command
      .option('--url <url>', 'the daemon (default: WAIAAS_URL, else the host and port of the configuration)')
      .option('--token <token>', `the ${tokenOf} token (default: WAIAAS_TOKEN)`),
  );

/** An owner-key act: --unlock-stdin, and --yes where it asks first. */
export const ownerActOptions = (command: Command, confirms = false): Command => {
  apiOptions(command).option('--unlock-stdin', UNLOCK_STDIN_HELP);
  return confirms ? command.option('-y, --yes', 'do not ask for confirmation') : command;
};
