/**
 * The enclave process as one plain-JavaScript file, so the supervisor can start it with bare `node`
 * (no TypeScript loader: that costs ~35 MB of RSS and a loader thread in a process meant to be small).
 *
 * The file is built with esbuild from src/enclave/main-entry.ts and cached, keyed by the
 * enclave's code bundle (code-bundle.ts, the bytes PCR0 measures). The measured sources are read once
 * and that same snapshot is both measured and handed to esbuild, so the SHA-384 the bundle carries
 * for its development attestation is exactly that of the code it was built from. Every other input
 * (node_modules) is listed in the file's header with a digest, and so is the body:
 * a cached file whose sources changed (stale) or whose bytes changed (tampered, torn) is never used,
 * it is built again.
 *
 * File: `enclave-<key>.mjs` in a private directory (0700, ours, not a symlink), first line
 * `// waiaas-enclave-bundle {header JSON}`, then the body. Modules keep their own `import.meta.url`
 * (their path in this repository), so what they resolve at run time (hash-wasm for the KDF worker,
 * an optional native addon) still comes from this repository's node_modules.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WaiaasError } from '../core/errors.ts';
import { codeBundleOf, type EnclaveSourceFile, enclaveSourceFiles } from './code-bundle.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = fileURLToPath(new URL('./main-entry.ts', import.meta.url));
const FORMAT = 1;
const HEADER_PREFIX = '// waiaas-enclave-bundle ';
/**
 * Part of the cache key, with the checkout's path, esbuild's version and the measured sources (which
 * include this builder): a file is only ever used by the checkout and builder that made it.
 */
const KEY_DOMAIN = 'waiaas-enclave-bundle/v1';
/** The identifier esbuild replaces with the measured SHA-384 (see builtCodeSha384 in code-bundle.ts). */
export const CODE_SHA384_DEFINE = '__WAIAAS_ENCLAVE_CODE_SHA384__';
const ZOD_LOCALES = `${sep}zod${sep}v4${sep}locales${sep}index.js`;
/** Bundles of other source versions are deleted once unused this long. */
const PRUNE_AFTER_MS = 24 * 3_600_000;

export interface EnclaveBundleHeader {
  readonly format: number;
  readonly key: string;
  /** hex SHA-256 and SHA-384 of the code bundle it was built from (the latter is PCR0). */
  readonly codeSha256: string;
  readonly codeSha384: string;
  /** Inputs outside the code bundle, relative to the repository root, and one digest over them. */
  readonly inputs: readonly string[];
  readonly inputsSha256: string;
  readonly bodySha256: string;
}

export interface EnclaveBundle {
  readonly path: string;
  readonly header: EnclaveBundleHeader;
  /** False when a valid cached file was used. */
  readonly built: boolean;
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

const bundleError = (reason: string, details: Record<string, unknown> = {}) =>
  new WaiaasError('CONFIG_INVALID', {
    message: `Cannot prepare the enclave bundle: ${reason}`,
    details: { key: 'enclave.bundle', reason, ...details },
  });

/** Creates `dir` (0700) and refuses it unless it is a real directory of ours that nobody else can open. */
export const ensurePrivateDir = (dir: string): void => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory()) throw bundleError('the cache directory is not a directory', { dir });
  if (uid !== undefined && info.uid !== uid) throw bundleError('the cache directory is not ours', { dir });
  if ((info.mode & 0o077) !== 0) throw bundleError('the cache directory is open to others', { dir });
};

const inputsDigest = (entries: readonly (readonly [string, string])[]): string =>
  sha256(entries.map(([path, digest]) => `${path}\0${digest}\n`).join(''));

const currentInputsDigest = (inputs: readonly string[]): string | undefined => {
  try {
    return inputsDigest(inputs.map((path) => [path, sha256(readFileSync(join(REPO_ROOT, path)))]));
  } catch {
    return undefined; // an input is gone: the file is stale
  }
};

const parseHeader = (line: string): EnclaveBundleHeader | undefined => {
  if (!line.startsWith(HEADER_PREFIX)) return undefined;
  try {
    const header = JSON.parse(line.slice(HEADER_PREFIX.length)) as EnclaveBundleHeader;
    const hex = (value: unknown, length: number) =>
      typeof value === 'string' && value.length === length && /^[0-9a-f]+$/.test(value);
    if (
      header.format !== FORMAT ||
      !hex(header.key, 64) ||
      !hex(header.codeSha256, 64) ||
      !hex(header.codeSha384, 96) ||
      !hex(header.inputsSha256, 64) ||
      !hex(header.bodySha256, 64) ||
      !Array.isArray(header.inputs) ||
      !header.inputs.every((path) => typeof path === 'string' && !path.startsWith('/'))
    ) {
      return undefined;
    }
    return header;
  } catch {
    return undefined;
  }
};

/**
 * The header of the file at `path` when it may be used for `key` / `codeSha256`, else why not: its
 * header, its body digest and the digests of its inputs as they are on disk now must all agree.
 */
export const checkEnclaveBundle = (
  path: string,
  expected: { key: string; codeSha256: string },
): { header: EnclaveBundleHeader } | { problem: string } => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return { problem: 'missing' };
  }
  const newline = bytes.indexOf(10);
  const header = newline === -1 ? undefined : parseHeader(bytes.toString('utf8', 0, newline));
  if (header === undefined) return { problem: 'no valid header' };
  if (header.key !== expected.key || header.codeSha256 !== expected.codeSha256)
    return { problem: 'built from other sources' };
  if (sha256(bytes.subarray(newline + 1)) !== header.bodySha256) return { problem: 'body altered' };
  if (currentInputsDigest(header.inputs) !== header.inputsSha256) return { problem: 'inputs changed' };
  return { header };
};

const loaderOf = (path: string) => (/\.[cm]?ts$/.test(path) ? 'ts' : 'js');

/**
 * Hands esbuild the snapshot's bytes for measured files (so the bundle is built from exactly what was
 * measured) and records the digest of whatever else it reads (`served`). Each module keeps its own
 * `import.meta.url`, its path in this repository.
 */
const sourcesPlugin = (
  snapshot: ReadonlyMap<string, Buffer>,
  served: Map<string, string>,
): import('esbuild').Plugin => ({
  name: 'waiaas-enclave-sources',
  setup(builder) {
    builder.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
      // zod hands out its namespace (locales and all) as a value, so nothing in it can be
      // tree-shaken; the enclave speaks English only, and the other locales are ~40% of the bundle.
      if (args.path.endsWith(ZOD_LOCALES)) {
        served.set(args.path, sha256(readFileSync(args.path)));
        return { contents: 'export { default as en } from "./en.js";', loader: 'js' };
      }
      const measured = snapshot.get(args.path);
      const bytes = measured ?? readFileSync(args.path);
      if (measured === undefined) served.set(args.path, sha256(bytes));
      const text = bytes.toString('utf8');
      const contents = text.includes('import.meta.url')
        ? text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        : text;
      return { contents, loader: loaderOf(args.path) };
    });
  },
});

/** Builds in flight in this process: esbuild's shared service is stopped only after the last. */
let buildsRunning = 0;

interface BuildOutput {
  readonly body: Buffer;
  readonly inputs: string[];
  readonly inputsSha256: string;
}

const build = async (snapshot: ReadonlyMap<string, Buffer>, codeSha384: string): Promise<BuildOutput> => {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw bundleError('esbuild is not installed');
  }
  const served = new Map<string, string>();
  let result: import('esbuild').BuildResult<{ write: false; metafile: true }>;
  buildsRunning++;
  try {
    result = await esbuild.build({
      absWorkingDir: REPO_ROOT,
      entryPoints: [ENTRY],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      metafile: true,
      outfile: join(REPO_ROOT, 'enclave.mjs'),
      logLevel: 'silent',
      legalComments: 'none',
      // Smaller source, smaller heap: the enclave reports errors by code, not by stack trace.
      minify: true,
      // The optional native CBOR accelerator and the NSM addon stay run-time requires from this repository.
      external: ['cbor-extract', 'waiaas-nsm'],
      define: { [CODE_SHA384_DEFINE]: JSON.stringify(codeSha384) },
      banner: {
        js: `import { createRequire as __waiaasCreateRequire } from 'node:module';\nconst require = __waiaasCreateRequire(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'package.json')).href)});`,
      },
      plugins: [sourcesPlugin(snapshot, served)],
    });
  } catch (error) {
    throw bundleError('esbuild failed', {
      errors: ((error as { errors?: { text: string }[] }).errors ?? []).map((item) => item.text).slice(0, 5),
    });
  } finally {
    // Its service process would otherwise stay for the daemon's lifetime; the next build restarts it.
    if (--buildsRunning === 0) await esbuild.stop();
  }
  const output = result.outputFiles[0];
  if (result.errors.length > 0 || output === undefined) throw bundleError('esbuild failed');
  const entries: [string, string][] = [];
  for (const input of Object.keys(result.metafile.inputs)) {
    const absolute = join(REPO_ROOT, input);
    if (snapshot.has(absolute)) continue;
    entries.push([input, served.get(absolute) ?? sha256(readFileSync(absolute))]);
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    body: Buffer.from(output.contents),
    inputs: entries.map(([path]) => path),
    inputsSha256: inputsDigest(entries),
  };
};

const prune = (dir: string, keep: string) => {
  const cutoff = Date.now() - PRUNE_AFTER_MS;
  for (const name of readdirSync(dir)) {
    if (name === keep || !/^enclave-[0-9a-f]+\.mjs(\.[0-9a-f]+\.tmp)?$/.test(name)) continue;
    try {
      if (statSync(join(dir, name)).mtimeMs < cutoff) unlinkSync(join(dir, name));
    } catch {
      // gone already, or another process's
    }
  }
};

/**
 * The bundle for the enclave code on disk now: the cached file when it checks out, else a fresh build
 * written atomically beside it. Throws CONFIG_INVALID when the directory is unsafe or esbuild fails.
 */
export const ensureEnclaveBundle = async (options: {
  cacheDir: string;
  /** The measured sources to build from; default: as on disk now (tests pass changed ones). */
  sources?: readonly EnclaveSourceFile[];
}): Promise<EnclaveBundle> => {
  ensurePrivateDir(options.cacheDir);
  const files = options.sources ?? enclaveSourceFiles();
  const code = codeBundleOf(files);
  const codeSha256 = sha256(code);
  const codeSha384 = createHash('sha384').update(code).digest('hex');
  let esbuildVersion = 'unknown';
  try {
    esbuildVersion = (await import('esbuild')).version;
  } catch {
    // build() reports it
  }
  const key = sha256(`${KEY_DOMAIN}\0${REPO_ROOT}\0${esbuildVersion}\0${codeSha256}`);
  const name = `enclave-${key.slice(0, 32)}.mjs`;
  const path = join(options.cacheDir, name);

  const cached = checkEnclaveBundle(path, { key, codeSha256 });
  if ('header' in cached) {
    const now = new Date();
    utimesSync(path, now, now);
    return { path, header: cached.header, built: false };
  }

  const snapshot = new Map(files.map((file) => [file.absolutePath, file.content]));
  const output = await build(snapshot, codeSha384);
  const header: EnclaveBundleHeader = {
    format: FORMAT,
    key,
    codeSha256,
    codeSha384,
    inputs: output.inputs,
    inputsSha256: output.inputsSha256,
    bodySha256: sha256(output.body),
  };
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(
    temporary,
    Buffer.concat([Buffer.from(`${HEADER_PREFIX}${JSON.stringify(header)}\n`), output.body]),
    {
      mode: 0o600,
      flag: 'wx',
    },
  );
  renameSync(temporary, path);
  prune(options.cacheDir, name);
  return { path, header, built: true };
};

/** Where bundles are cached unless told otherwise: a private directory of this user under the OS tmp. */
export const defaultBundleCacheDir = (): string =>
  join(tmpdir(), `waiaas-enclave-code-${process.getuid?.() ?? 'user'}`);
