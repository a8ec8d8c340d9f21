import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { WaiaasError } from '../core/errors.ts';

/** The Squads v4 program as deployed on mainnet-beta. */
export const SQUADS_PROGRAM_ID = 'SQDS4ep65T869zMMBKyuUq6aD6EgTu8psMjkvj52pCf';
/** sha256 of the pinned Squads v4 binary (the ELF file, without loader header or padding). */
export const SQUADS_V4_SHA256 = 'dec8d3e0fae58c7c8f2416e5f67c25e673f047afd6dd2bba4a47e0b29a01d34c';
export const SQUADS_BINARY_ENV = 'WAIAAS_SQUADS_SO';
export const MAINNET_RPC_URL = 'https://api.mainnet-beta.solana.com';

export const defaultSquadsBinaryPath = (): string =>
  join(homedir(), '.cache', 'waiaas', 'programs', 'squads_v4.so');

/** Explicit path first, then WAIAAS_SQUADS_SO, then the per-user cache. */
export const resolveSquadsBinaryPath = (
  explicitPath?: string,
  env: NodeJS.ProcessEnv = process.env,
): string => explicitPath || env[SQUADS_BINARY_ENV] || defaultSquadsBinaryPath();

/** How to get the binary, as the end of a sentence. */
export const SQUADS_FETCH_HINT = `run \`waiaas programs fetch --rpc ${MAINNET_RPC_URL}\` or set ${SQUADS_BINARY_ENV} to the binary's path`;

export const squadsMissingFix = (path: string): string =>
  `Squads v4 program missing at ${path}: ${SQUADS_FETCH_HINT}.`;

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export type SquadsBinary =
  | { status: 'found'; path: string; bytes: Uint8Array; sha256: string }
  | { status: 'missing'; path: string; fix: string };

export const programHashMismatch = (path: string, actual: string, expected = SQUADS_V4_SHA256): WaiaasError =>
  new WaiaasError('PROGRAM_HASH_MISMATCH', {
    message: `Squads v4 program at ${path} has sha256 ${actual}, expected ${expected}; refusing to load it.`,
    details: { path, expectedSha256: expected, actualSha256: actual },
  });

/**
 * Reads the Squads binary and checks it against the pinned hash.
 * A missing file is a normal state (the localnet still starts); a file with another hash is refused.
 */
export async function loadSquadsBinary(
  options: { path?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<SquadsBinary> {
  const path = resolveSquadsBinaryPath(options.path, options.env);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return { status: 'missing', path, fix: squadsMissingFix(path) };
    throw new WaiaasError('PROGRAM_MISSING', {
      message: `Squads v4 program at ${path} cannot be read (${code ?? 'unknown error'}).`,
      details: { path, errno: code },
      cause: error,
    });
  }
  const sha256 = sha256Hex(bytes);
  if (sha256 !== SQUADS_V4_SHA256) throw programHashMismatch(path, sha256);
  return { status: 'found', path, bytes, sha256 };
}
