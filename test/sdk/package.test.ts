/**
 * `waiaas/sdk` from another project, as the README says to use it: the package is packed (npm pack),
 * installed into a new project, and the README's SDK snippet, exactly as printed there, runs with
 * plain `node` against a running daemon and type-checks with `tsc --noEmit` under the tsconfig.json a
 * default `tsc --init` writes (with the two lines its own template says to enable for Node).
 *
 * Nothing is fetched: the project installs offline (`npm ci --offline`) from npm's cache, with a lock
 * file made from this repository's own, so it gets exactly the versions this checkout was tested with.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sdkSnippet } from '../../src/cli/quickstart-setup.ts';
import { sol } from '../../src/sdk/index.ts';
import { repoRoot } from '../support/processes.ts';
import {
  createOwnerWalletAgent,
  fundVault,
  type ListeningDaemon,
  lamportsOf,
  type OwnerWalletAgent,
  startListeningDaemon,
} from '../support/sdk-daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

const run = promisify(execFile);
const tsc = createRequire(join(repoRoot, 'package.json')).resolve('typescript/bin/tsc');

/** The first ```js block after the README's `<!-- sdk-snippet -->` marker, as printed. */
export function readmeSnippet(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const after = readme.slice(readme.indexOf('<!-- sdk-snippet -->'));
  const match = /```js\n([\s\S]*?)```/.exec(after);
  if (!readme.includes('<!-- sdk-snippet -->') || !match) throw new Error('no SDK snippet in README.md');
  return match[1]!;
}

/** A lock file for a project depending on the packed tarball: this repository's tree, minus its dev tools. */
function lockFor(tarball: string, integrity: string, manifest: Record<string, unknown>) {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, Record<string, unknown>>;
  };
  const own = lock.packages['']!;
  const packages: Record<string, unknown> = {
    '': manifest,
    'node_modules/waiaas': {
      version: own.version,
      resolved: `file:${tarball}`,
      integrity,
      license: own.license,
      dependencies: own.dependencies,
      bin: own.bin,
      engines: own.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev === true) continue;
    packages[path] = entry;
  }
  return { name: manifest.name, lockfileVersion: 3, requires: true, packages };
}

describeWithSquads('waiaas/sdk installed from the packed package into another project', () => {
  let listening: ListeningDaemon;
  let agent: OwnerWalletAgent;
  let project: string;
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const began = Date.now();
    try {
      return await work();
    } finally {
      timings[step] = Date.now() - began;
    }
  };

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'waiaas-sdk-user-'));
    const packed = await timed('npm pack', () =>
      run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: repoRoot }),
    );
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const integrity = `sha512-${createHash('sha512')
      .update(readFileSync(join(project, filename)))
      .digest('base64')}`;
    const ours = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const manifest = {
      name: 'sdk-user',
      version: '1.0.0',
      private: true,
      type: 'module',
      dependencies: { waiaas: `file:${filename}` },
      devDependencies: { '@types/node': ours.devDependencies['@types/node'] },
      // The same resolutions as this repository's lock (pins for Node 20), so the lock is consistent;
      // "$name" (the version of our own dependency) written out, since this project has no such dependency.
      overrides: JSON.parse(
        JSON.stringify(ours.overrides).replace(/"\$([^"]+)"/g, (_, name: string) =>
          JSON.stringify(ours.dependencies[name] ?? ours.devDependencies[name]),
        ),
      ),
    };
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(
      join(project, 'package-lock.json'),
      `${JSON.stringify(lockFor(filename, integrity, manifest), null, 2)}\n`,
    );
    await timed('npm ci --offline', () =>
      run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
        cwd: project,
        env: { ...process.env, npm_config_update_notifier: 'false' },
      }),
    );

    listening = await startListeningDaemon();
    agent = await createOwnerWalletAgent(listening);
    await fundVault(listening, agent.vault, sol('1'));
  }, 300_000);
  afterAll(async () => {
    await listening?.close();
    if (project) rmSync(project, { recursive: true, force: true });
    process.stderr.write(`sdk package test timings (ms): ${JSON.stringify(timings)}\n`);
  });

  it('the README snippet is the one quickstart prints', () => {
    expect(readmeSnippet()).toBe(`${sdkSnippet('http://127.0.0.1:3100').join('\n')}\n`);
  });

  it('runs as printed with plain node: the agent finds its wallet and the transfer confirms', async () => {
    writeFileSync(join(project, 'agent.mjs'), readmeSnippet());
    const recipient = Keypair.generate().publicKey.toBase58();
    const { stdout } = await timed('node agent.mjs', () =>
      run(process.execPath, ['agent.mjs'], {
        cwd: project,
        env: {
          PATH: process.env.PATH,
          WAIAAS_URL: listening.url,
          WAIAAS_SESSION_TOKEN: agent.sessionToken,
          RECIPIENT: recipient,
        },
      }),
    );
    expect(stdout).toMatch(/^confirmed tr[a-z]*_\S+\n$/);
    expect(await lamportsOf(listening, recipient)).toBe(sol('0.05'));
  });

  it('type-checks with tsc --noEmit under a default tsc --init, its types real (a misuse fails)', async () => {
    await run(process.execPath, [tsc, '--init'], { cwd: project });
    const generated = readFileSync(join(project, 'tsconfig.json'), 'utf8');
    // The template's own lines "For nodejs: lib esnext, types node (and npm install -D @types/node)".
    const forNode = generated
      .replace('"types": [],', '"types": ["node"],')
      .replace('// "lib": ["esnext"],', '"lib": ["esnext"],');
    expect(forNode).not.toBe(generated);
    writeFileSync(join(project, 'tsconfig.json'), forNode);
    writeFileSync(join(project, 'agent.ts'), readmeSnippet());
    await timed('tsc --noEmit', () =>
      run(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: project }),
    );

    writeFileSync(
      join(project, 'misuse.ts'),
      "import { createClient } from 'waiaas/sdk';\nconst id: number = (await createClient({ url: 'x' }).sessions.current()).walletId;\nexport { id };\n",
    );
    const refused = await run(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: project }).catch(
      (error: { stdout: string }) => error,
    );
    expect((refused as { stdout: string }).stdout).toMatch(/misuse\.ts\(2,7\): error TS2322/);
  });
});
