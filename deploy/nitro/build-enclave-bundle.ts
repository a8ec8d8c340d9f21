/**
 * Inside the image build (deploy/nitro/Dockerfile): the enclave's code as one file, built from the
 * measured sources exactly as the daemon's supervisor builds it (src/enclave/process-bundle.ts), and
 * the few run-time files it needs, into OUT:
 *   OUT/enclave.mjs               the bundle (its header names the sources' SHA-384)
 *   OUT/package.json              what the bundle's `require` resolves from
 *   OUT/node_modules/waiaas-nsm/  the NSM addon, built by npm ci (native/nsm)
 * Usage: node --import tsx deploy/nitro/build-enclave-bundle.ts OUT
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEnclaveBundle } from '../../src/enclave/process-bundle.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: build-enclave-bundle.ts OUT\n');
  process.exit(2);
}
const addon = join(repoRoot, 'native', 'nsm', 'build', 'Release', 'nsm.node');
if (!existsSync(addon)) {
  process.stderr.write(`the NSM addon is not built (${addon}): npm ci must run on Linux with a compiler\n`);
  process.exit(1);
}
const cacheDir = mkdtempSync(join(tmpdir(), 'waiaas-enclave-image-'));
const bundle = await ensureEnclaveBundle({ cacheDir });
mkdirSync(join(out, 'node_modules', 'waiaas-nsm', 'build', 'Release'), { recursive: true });
copyFileSync(bundle.path, join(out, 'enclave.mjs'));
copyFileSync(join(repoRoot, 'package.json'), join(out, 'package.json'));
for (const file of ['package.json', 'index.js'])
  copyFileSync(join(repoRoot, 'native', 'nsm', file), join(out, 'node_modules', 'waiaas-nsm', file));
cpSync(addon, join(out, 'node_modules', 'waiaas-nsm', 'build', 'Release', 'nsm.node'));
rmSync(cacheDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ bundle: 'enclave.mjs', codeSha384: bundle.header.codeSha384 })}\n`);
