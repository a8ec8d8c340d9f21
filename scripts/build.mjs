#!/usr/bin/env node
/**
 * Builds src/ into dist/ as plain JavaScript, so the daemon, the CLI and the SDK run on bare `node`:
 *
 *   dist/cli/  the CLI and the daemon: one esbuild bundle of src/cli/main.ts, split into chunks (each
 *              command loads only what it uses), every package left as an import from node_modules.
 *   dist/sdk/  the SDK as a library: tsc's JavaScript and declarations, file for file
 *              (tsconfig.sdk.json), for `import … from 'waiaas/sdk'` in another project.
 *
 * Why esbuild for the CLI: some modules find files relative to their own source file through
 * `import.meta.url` (the enclave's measured sources and its entry, package.json, node_modules for
 * the KDF workers). Bundled, each such module keeps its source file's URL, computed relative to the
 * bundle (so an installed package still works wherever it lies): the enclave is still measured and
 * bundled from src/ at run time (src/enclave/process-bundle.ts), exactly as before.
 *
 * Each target writes `build.json` last; a target is stale when a file it is built from is newer.
 * `node bin/waiaas.mjs` checks that (a few milliseconds) and builds a stale target first, under a
 * lock so concurrent starts build once.
 *
 * Usage: node scripts/build.mjs [--if-stale] [--quiet]
 */
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const LOCK = join(DIST, '.build.lock');
const SELF = fileURLToPath(import.meta.url);
const STAMP = 'build.json';

/** What each target is built from (paths relative to the repository root). */
const TARGETS = {
  cli: { inputs: ['src', 'scripts/build.mjs'], out: join(DIST, 'cli') },
  sdk: { inputs: ['src/sdk', 'tsconfig.sdk.json', 'scripts/build.mjs'], out: join(DIST, 'sdk') },
};

/** The newest modification time under `path` (directories count: a deleted file changes its folder). */
const newestMtime = (path, seen = new Map()) => {
  const known = seen.get(path);
  if (known !== undefined) return known;
  const info = statSync(path, { throwIfNoEntry: false });
  let newest = info?.mtimeMs ?? 0;
  if (info?.isDirectory()) {
    for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name), seen));
  }
  seen.set(path, newest);
  return newest;
};

const stampTime = (target) => {
  try {
    return statSync(join(TARGETS[target].out, STAMP)).mtimeMs;
  } catch {
    return -1;
  }
};

/** The targets whose outputs are missing or older than one of their inputs. */
export function staleTargets() {
  const seen = new Map();
  // Walk the widest input first, so the narrower ones inside it are already known.
  newestMtime(join(ROOT, 'src'), seen);
  return Object.keys(TARGETS).filter((target) => {
    const built = stampTime(target);
    return built < 0 || TARGETS[target].inputs.some((input) => newestMtime(join(ROOT, input), seen) > built);
  });
}

// ---------------------------------------------------------------------------------------------------
// The CLI bundle

/** `import.meta.url` as an expression, but not where it is only mentioned (in quotes or backticks). */
const IMPORT_META_URL = /(?<![\w$'"`.])import\.meta\.url(?![\w$'"`])/g;

/**
 * Every module under src/ keeps the URL of its source file for `import.meta.url`, written relative to
 * the bundle's own URL so the bundle can move with the package.
 */
const sourceUrlPlugin = (outdir) => ({
  name: 'waiaas-source-url',
  setup(builder) {
    const src = join(ROOT, 'src') + sep;
    builder.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!args.path.startsWith(src) || !text.includes('import.meta.url'))
        return { contents: text, loader: 'ts' };
      const fromBundle = relative(outdir, args.path).split(sep).join('/');
      return {
        contents: text.replace(
          IMPORT_META_URL,
          `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`,
        ),
        loader: 'ts',
      };
    });
  },
});

const writeAtomic = (path, contents) => {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
};

async function buildCli() {
  const esbuild = await import('esbuild');
  const { out } = TARGETS.cli;
  mkdirSync(out, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'src/cli/main.ts' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: out,
    write: false,
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [sourceUrlPlugin(out)],
  });
  const written = new Set([STAMP]);
  // Chunks first, the entry last: a process starting meanwhile finds either build whole.
  const files = [...result.outputFiles].sort(
    (a, b) => Number(a.path.includes('main.js')) - Number(b.path.includes('main.js')),
  );
  for (const file of files) {
    writeAtomic(file.path, file.contents);
    written.add(relative(out, file.path));
  }
  for (const name of readdirSync(out)) if (!written.has(name)) rmSync(join(out, name), { force: true });
  await esbuild.stop();
  return files.length;
}

// ---------------------------------------------------------------------------------------------------
// The SDK library

function buildSdk() {
  const { out } = TARGETS.sdk;
  rmSync(out, { recursive: true, force: true });
  const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.sdk.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  let count = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('.js')) count++;
    }
  };
  walk(out);
  return count;
}

// ---------------------------------------------------------------------------------------------------

const builders = { cli: buildCli, sdk: buildSdk };

/** Builds the given targets now, each stamped when done. */
export async function build(targets = Object.keys(TARGETS), log = () => {}) {
  for (const target of targets) {
    const started = Date.now();
    const files = await builders[target]();
    mkdirSync(TARGETS[target].out, { recursive: true });
    writeAtomic(
      join(TARGETS[target].out, STAMP),
      `${JSON.stringify({ target, files, builtAt: new Date().toISOString(), node: process.version }, null, 2)}\n`,
    );
    log(`built dist/${target} (${files} files) in ${Date.now() - started} ms`);
  }
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

/** Takes the build lock, waiting for another build to finish (a lock of a dead process is taken over). */
async function withLock(work) {
  mkdirSync(DIST, { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(LOCK, 'utf8') || 0);
      if (holder > 0 && !alive(holder)) {
        unlinkSync(LOCK);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another build (pid ${holder}) holds ${LOCK}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

/**
 * Builds what is stale, if anything (a cheap check when nothing is). `log` hears one line per target
 * built; concurrent callers wait for one build.
 */
export async function ensureBuilt(log = () => {}) {
  if (staleTargets().length === 0) return [];
  return withLock(async () => {
    const stale = staleTargets();
    if (stale.length > 0) await build(stale, log);
    return stale;
  });
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(SELF);
if (invokedDirectly) {
  const args = new Set(process.argv.slice(2));
  const log = args.has('--quiet') ? () => {} : (line) => process.stdout.write(`${line}\n`);
  try {
    if (args.has('--if-stale')) await ensureBuilt(log);
    else await withLock(() => build(undefined, log));
  } catch (error) {
    process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
