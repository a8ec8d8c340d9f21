/**
 * Before any test: dist/ is built from the sources as they are now, so every test that spawns
 * `bin/waiaas.mjs` runs the same built CLI a user runs (and none of them races to build it).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url)), '--if-stale'],
    {
      stdio: 'inherit',
    },
  );
}
