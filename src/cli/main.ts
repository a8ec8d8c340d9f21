import { CommanderError } from 'commander';
import { isWaiaasError } from '../core/errors.ts';
import { ConfigError, unknownEnvWarnings } from '../daemon/config.ts';
import { WaiaasApiError, WaiaasNetworkError } from '../sdk/index.ts';
import { issueLines } from './issues.ts';
import { printError } from './output.ts';
import { createProgram } from './program.ts';

/** One line (plus one per invalid field) saying what went wrong and what to do. */
export function describeFailure(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof WaiaasNetworkError) {
    const code = (error.cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
    return `${error.message}${typeof code === 'string' ? ` (${code})` : ''}. Is the daemon running? Start it with \`waiaas start\`, or point --url / WAIAAS_URL at it.`;
  }
  if (error instanceof WaiaasApiError || isWaiaasError(error)) {
    const details = (error as { details?: Record<string, unknown> }).details;
    const action = error.action ? ` ${error.action}` : '';
    return [`${error.message} [${error.code}]${action}`, ...issueLines(details)].join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}

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
