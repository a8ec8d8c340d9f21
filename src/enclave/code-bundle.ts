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

const listFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );

export const enclaveCodeBundle = (): Uint8Array => {
  const files = ENCLAVE_SOURCE_DIRS.flatMap((dir) => listFiles(join(SRC, dir)))
    .map((path) => relative(SRC, path))
    .sort();
  const parts: Buffer[] = [];
  for (const path of files) {
    const content = readFileSync(join(SRC, path));
    parts.push(Buffer.from(`${path}\0${content.length}\0`), content);
  }
  return new Uint8Array(Buffer.concat(parts));
};
