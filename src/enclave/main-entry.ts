/**
 * Runs the enclave's `main` (main.ts) directly, without the rest of the CLI: the entry point of the
 * enclave bundle the supervisor runs on plain node (process-bundle.ts) and of the Nitro image, and of
 * the from-source fallback (`node --import tsx src/enclave/main-entry.ts …`).
 */
import { isWaiaasError } from '../core/errors.ts';
import { run } from './main.ts';

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
