/**
 * Runs `waiaas enclave` directly (`node --import tsx src/cli/commands/enclave-entry.ts …`), for the
 * supervisor until src/cli/main.ts dispatches the `enclave` command.
 */
import { isWaiaasError } from '../../core/errors.ts';
import { run } from './enclave.ts';

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  const text = isWaiaasError(error)
    ? `${error.message} [${error.code}]`
    : error instanceof Error
      ? error.message
      : String(error);
  process.stderr.write(`waiaas enclave: ${text}\n`);
  process.exitCode = 1;
}
