import { existsSync } from 'node:fs';
import { describe } from 'vitest';
import { resolveSquadsBinaryPath, SQUADS_FETCH_HINT } from '../../src/localnet/squads-program.ts';

/** Where the Squads v4 binary is looked for (WAIAAS_SQUADS_SO, else the per-user cache). */
export const squadsBinaryLookupPath = resolveSquadsBinaryPath();

/** The binary's path when it is present, else null. Its hash is checked by whatever loads it. */
export const squadsBinaryPath: string | null = existsSync(squadsBinaryLookupPath)
  ? squadsBinaryLookupPath
  : null;

/**
 * `describe` for suites that run the real Squads program: runs them when the binary is present,
 * otherwise skips them with one loud line on stderr saying what is missing and how to get it.
 */
export function describeWithSquads(name: string, suite: () => void): void {
  if (squadsBinaryPath) {
    describe(name, suite);
    return;
  }
  process.stderr.write(
    `SKIPPED (Squads v4 binary missing at ${squadsBinaryLookupPath}): ${name}. To run it, ${SQUADS_FETCH_HINT}.\n`,
  );
  describe.skip(name, suite);
}
