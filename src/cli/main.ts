import { CommanderError } from 'commander';
import { ConfigError, unknownEnvWarnings } from '../daemon/config.ts';
import { describeFailure } from './failure.ts';
import { printError } from './output.ts';
import { createProgram } from './program.ts';

/** Exit status: 0 done, 1 failed, 2 usage or configuration error. */
export async function main(argv: string[]): Promise<number> {
  for (const warning of unknownEnvWarnings(process.env)) printError(warning);
  const program = createProgram();
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    printError(describeFailure(error));
    return error instanceof ConfigError ? 2 : 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
