import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import bs58 from 'bs58';
import { WaiaasError } from '../core/errors.ts';
import { writeFileAtomic } from './persistence.ts';
import { defaultSquadsBinaryPath, SQUADS_PROGRAM_ID, SQUADS_V4_SHA256, sha256Hex } from './squads-program.ts';
import {
  BPF_LOADER_2_ID,
  BPF_LOADER_UPGRADEABLE_ID,
  elfFileLength,
  programDataAddressOf,
  programDataPayload,
} from './upgradeable-loader.ts';

export interface FetchProgramOptions {
  rpcUrl: string;
  programId?: string;
  /** Default: the Squads v4 cache path (~/.cache/waiaas/programs/squads_v4.so). */
  outPath?: string;
  /** Default: the pinned Squads v4 hash. */
  expectedSha256?: string;
  fetch?: typeof fetch;
}

export interface FetchedProgram {
  path: string;
  sha256: string;
  size: number;
}

interface RpcAccount {
  data: [string, string];
  owner: string;
  executable: boolean;
}

async function getAccount(
  rpcUrl: string,
  address: string,
  fetcher: typeof fetch,
): Promise<{ owner: string; data: Uint8Array } | null> {
  let body: { result?: { value: RpcAccount | null }; error?: { code: number; message: string } };
  try {
    const response = await fetcher(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'getAccountInfo',
        params: [address, { encoding: 'base64', commitment: 'confirmed' }],
      }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw new WaiaasError('CHAIN_UNAVAILABLE', {
      message: `Cannot read account ${address} from ${rpcUrl}: ${(error as Error).message}`,
      details: { rpcUrl, address },
      cause: error,
    });
  }
  if (body.error) {
    throw new WaiaasError('CHAIN_UNAVAILABLE', {
      message: `${rpcUrl} refused getAccountInfo for ${address}: ${body.error.message}`,
      details: { rpcUrl, address, rpcError: body.error },
    });
  }
  const account = body.result?.value;
  if (!account) return null;
  return { owner: account.owner, data: Buffer.from(account.data[0], 'base64') };
}

const notAProgram = (programId: string, rpcUrl: string, why: string): WaiaasError =>
  new WaiaasError('PROGRAM_MISSING', {
    message: `No deployed program ${programId} at ${rpcUrl}: ${why}.`,
    details: { programId, rpcUrl },
  });

/**
 * The ways a program file can sit in its loader account. A programdata account holds the ELF
 * followed by zero padding up to the size reserved at deployment; the pinned Squads binary is that
 * whole payload (ELF + padding, as `solana program dump` writes it), while a binary built locally is
 * the bare ELF. Zero-trimming alone is wrong for both (the ELF itself may end in zeros).
 */
function candidates(payload: Uint8Array): Uint8Array[] {
  const result = [payload];
  const elfLength = elfFileLength(payload);
  if (elfLength !== null && elfLength < payload.length) result.push(payload.subarray(0, elfLength));
  return result;
}

/**
 * Dumps a program from any cluster over JSON-RPC and writes it to the cache path, only if its
 * sha256 is the pinned one. Upgradeable loader: program account → programdata account → payload
 * after the 45-byte header. Nothing is written when the hash differs.
 */
export async function fetchProgramBinary(options: FetchProgramOptions): Promise<FetchedProgram> {
  const programId = options.programId ?? SQUADS_PROGRAM_ID;
  const expected = options.expectedSha256 ?? SQUADS_V4_SHA256;
  const outPath = options.outPath ?? defaultSquadsBinaryPath();
  const fetcher = options.fetch ?? fetch;
  const { rpcUrl } = options;

  const program = await getAccount(rpcUrl, programId, fetcher);
  if (!program) throw notAProgram(programId, rpcUrl, 'the account does not exist');
  let payload: Uint8Array;
  if (program.owner === BPF_LOADER_UPGRADEABLE_ID) {
    const programDataAddress = programDataAddressOf(program.data);
    if (!programDataAddress) throw notAProgram(programId, rpcUrl, 'it is not an upgradeable program account');
    const programData = await getAccount(rpcUrl, bs58.encode(programDataAddress), fetcher);
    const found = programData ? programDataPayload(programData.data) : null;
    if (!found) throw notAProgram(programId, rpcUrl, 'its programdata account is missing or closed');
    payload = found;
  } else if (program.owner === BPF_LOADER_2_ID) {
    payload = program.data;
  } else {
    throw notAProgram(programId, rpcUrl, `the account is owned by ${program.owner}, not a BPF loader`);
  }

  const match = candidates(payload).find((bytes) => sha256Hex(bytes) === expected);
  if (!match) {
    const actual = sha256Hex(payload);
    throw new WaiaasError('PROGRAM_HASH_MISMATCH', {
      message: `Program ${programId} on ${rpcUrl} has sha256 ${actual}, expected ${expected}; nothing was written to ${outPath}.`,
      details: { rpcUrl, programId, path: outPath, expectedSha256: expected, actualSha256: actual },
    });
  }
  await mkdir(dirname(outPath), { recursive: true });
  await writeFileAtomic(outPath, match, 0o644);
  return { path: outPath, sha256: expected, size: match.length };
}
