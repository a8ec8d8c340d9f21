#!/usr/bin/env node
// The CLI runs as built JavaScript (dist/cli, made by scripts/build.mjs). In a checkout whose sources
// changed since the last build, the stale part is built first (the check costs a few milliseconds).
import { ensureBuilt } from '../scripts/build.mjs';

await ensureBuilt((line) => process.stderr.write(`waiaas: ${line} (sources changed since the last build)\n`));
process.setSourceMapsEnabled(true);
await import('../dist/cli/main.js');
