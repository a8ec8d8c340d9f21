/**
 * The enclave's code as one byte string, for the development attestation's PCR0 (on Nitro, PCR0
 * measures the enclave image instead). It covers every source file the enclave process can load from
 * this repository: src/enclave, src/core, src/solana/inspect and src/keys, in sorted order, each as
 * its path, a NUL, its byte length, a NUL and its bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('..', import.meta.url));
const ENCLAVE_SOURCE_DIRS = ['enclave', 'core', 'solana/inspect', 'keys'];

export interface EnclaveSourceFile {
  /** Relative to src/, with forward slashes: what the bundle names it by. */
  readonly path: string;
  readonly absolutePath: string;
  readonly content: Buffer;
}

const listFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );

/** The measured files as read now; the process bundle is built from this very snapshot. */
export const enclaveSourceFiles = (): EnclaveSourceFile[] =>
  ENCLAVE_SOURCE_DIRS.flatMap((dir) => listFiles(join(SRC, dir)))
    .map((absolutePath) => ({ absolutePath, path: relative(SRC, absolutePath) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((file) => ({ ...file, content: readFileSync(file.absolutePath) }));

export const codeBundleOf = (files: readonly EnclaveSourceFile[]): Uint8Array => {
  const parts: Buffer[] = [];
  for (const { path, content } of files) parts.push(Buffer.from(`${path}\0${content.length}\0`), content);
  return new Uint8Array(Buffer.concat(parts));
};

export const enclaveCodeBundle = (): Uint8Array => codeBundleOf(enclaveSourceFiles());

/** Replaced by the process bundle's builder (process-bundle.ts) with the hex SHA-384 it measured. */
declare const __WAIAAS_ENCLAVE_CODE_SHA384__: string | undefined;

/**
 * PCR0 of the code this process runs when it is the bundled enclave: measured at build time from the
 * very sources bundled. Undefined when running from source (then measure enclaveCodeBundle()).
 */
export const builtCodeSha384 = (): Uint8Array | undefined =>
  typeof __WAIAAS_ENCLAVE_CODE_SHA384__ === 'string'
    ? new Uint8Array(Buffer.from(__WAIAAS_ENCLAVE_CODE_SHA384__, 'hex'))
    : undefined;
