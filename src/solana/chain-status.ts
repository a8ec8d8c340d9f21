import { createJsonRpcTransport } from './json-rpc.ts';

export const SQUADS_PROGRAM_ID = 'SQDS4ep65T869zMMBKyuUq6aD6EgTu8psMjkvj52pCf';

export interface SquadsProgramStatus {
  readonly status: 'loaded' | 'missing' | 'unknown';
  /** One sentence telling the user how to fix a missing program. */
  readonly fix?: string;
}

export interface ChainStatus {
  readonly ok: boolean;
  readonly rpcUrl: string;
  readonly slot?: string;
  readonly version?: string;
  readonly latencyMs: number;
  readonly error?: string;
  readonly squads: SquadsProgramStatus;
}

export const squadsMissingFix =
  'Run `waiaas programs fetch --rpc https://api.mainnet-beta.solana.com` (or set WAIAAS_SQUADS_SO to a squads_v4.so with the pinned sha256) and restart.';

/**
 * Asks the chain whether it answers and whether the Squads v4 program is deployed on it: the same
 * question on localnet, devnet and mainnet, so health reads the same everywhere. Plain JSON-RPC (the
 * daemon's own transport): a whole RPC client library would cost the daemon megabytes for three calls.
 */
export async function readChainStatus(rpcUrl: string, timeoutMs = 2_000): Promise<ChainStatus> {
  const started = performance.now();
  let rpc: ReturnType<typeof createJsonRpcTransport> | undefined;
  try {
    rpc = createJsonRpcTransport(rpcUrl, { timeoutMs, maxSockets: 3 });
    const [slot, version, program] = await Promise.all([
      rpc.call<number | string>('getSlot', [{ commitment: 'confirmed' }]),
      rpc.call<{ 'solana-core'?: string }>('getVersion', []),
      rpc.call<{ value: { executable?: boolean } | null }>('getAccountInfo', [
        SQUADS_PROGRAM_ID,
        { encoding: 'base64', dataSlice: { offset: 0, length: 0 }, commitment: 'confirmed' },
      ]),
    ]);
    const deployed = program.value?.executable === true;
    return {
      ok: true,
      rpcUrl,
      slot: BigInt(slot).toString(),
      ...(version['solana-core'] === undefined ? {} : { version: version['solana-core'] }),
      latencyMs: Math.round(performance.now() - started),
      squads: deployed ? { status: 'loaded' } : { status: 'missing', fix: squadsMissingFix },
    };
  } catch (error) {
    return {
      ok: false,
      rpcUrl,
      latencyMs: Math.round(performance.now() - started),
      error: error instanceof Error ? error.message.split('\n')[0] : 'unreachable',
      squads: { status: 'unknown' },
    };
  } finally {
    rpc?.close();
  }
}
