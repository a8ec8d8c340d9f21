/**
 * The console tests run against the console as `npm run build:web` builds it. This builds it when the
 * build is missing or older than its sources (the web folder, the SDK and the core policy schema it
 * bundles): a content hash of those files is kept beside the build, so a fresh build costs one hash.
 * Test files running at once take turns through a lock folder.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { consoleBuildDir } from '../../src/daemon/plugins/console.ts';

const root = join(import.meta.dirname, '..', '..');
const SOURCES = ['web', 'src/sdk', 'src/core', 'package-lock.json'];
const STAMP = '.sources-sha256';
const LOCK = join(root, 'dist', '.console-build.lock');
const LOCK_STALE_MS = 5 * 60_000;

const filesUnder = (path: string): string[] =>
  statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((name) => name !== 'node_modules')
        .sort()
        .flatMap((name) => filesUnder(join(path, name)))
    : [path];

export function consoleSourcesHash(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES.flatMap((source) => filesUnder(join(root, source)))) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const builtHash = (dir: string): string | undefined => {
  try {
    return readFileSync(join(dir, STAMP), 'utf8').trim();
  } catch {
    return undefined;
  }
};

const takeLock = async (deadlineMs: number): Promise<void> => {
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch {
      const age = Date.now() - statSync(LOCK, { throwIfNoEntry: false })!.mtimeMs;
      if (age > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadlineMs) throw new Error(`the console build lock ${LOCK} was held too long`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
};

/** Builds the console unless the build in dist/console matches its sources; returns its folder. */
export async function ensureConsoleBuilt(): Promise<string> {
  const dir = consoleBuildDir();
  const wanted = consoleSourcesHash();
  if (builtHash(dir) === wanted) return dir;
  await takeLock(Date.now() + 180_000);
  try {
    if (builtHash(dir) === wanted) return dir;
    await promisify(execFile)('npm', ['run', '--silent', 'build:web'], { cwd: root, timeout: 170_000 });
    writeFileSync(join(dir, STAMP), `${wanted}\n`);
    return dir;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
