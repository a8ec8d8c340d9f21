/**
 * The Squads v4 program for the embedded localnet, before anything else is created: present and
 * pinned, or fetched from a cluster now (progress on stderr, sha256 checked before it is written),
 * or a one-line stop naming what is missing and the two ways to provide it.
 */
import { type Config, runsEmbeddedLocalnet } from '../daemon/config.ts';
import { fetchProgramBinary } from '../localnet/fetch-program.ts';
import {
  loadSquadsBinary,
  MAINNET_RPC_URL,
  resolveSquadsBinaryPath,
  SQUADS_V4_SHA256,
} from '../localnet/squads-program.ts';
import { StartupFailure } from './serve.ts';

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

/** fetch, counting the bytes of each answer as they arrive (the programdata account is ~1.5 MB). */
const fetchWithProgress =
  (report: (received: number) => void): typeof fetch =>
  async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    const chunks: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      received += chunk.length;
      report(received);
    }
    return new Response(Buffer.concat(chunks), { status: response.status, headers: response.headers });
  };

export async function ensureSquadsProgram(config: Config, write: (text: string) => void): Promise<void> {
  if (!runsEmbeddedLocalnet(config)) return;
  const path = resolveSquadsBinaryPath(config.squadsSo);
  // A file with another hash stops here too (loadSquadsBinary refuses it), before anything is created.
  if ((await loadSquadsBinary({ path })).status === 'found') return;

  const source = config.programSourceRpc ?? MAINNET_RPC_URL;
  write(`Squads v4 program missing at ${path}: fetching it from ${source}\n`);
  const terminal = process.stderr.isTTY === true;
  try {
    const fetched = await fetchProgramBinary({
      rpcUrl: source,
      outPath: path,
      fetch: fetchWithProgress((received) => {
        if (terminal) write(`\r  received ${kib(received)}   `);
      }),
    });
    write(
      `${terminal ? '\n' : ''}  ${kib(fetched.size)}, sha256 ${fetched.sha256} (the pinned one), written to ${fetched.path}\n`,
    );
  } catch (error) {
    if (terminal) write('\n');
    const code = (error as { cause?: { cause?: { code?: unknown } } }).cause?.cause?.code;
    const reason = `${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` (${code})` : ''}`;
    throw new StartupFailure(
      `cannot start: the Squads v4 program is missing at ${path} and could not be fetched (${reason}). ` +
        `Either fetch it where a Solana RPC can be reached (\`waiaas programs fetch --rpc <RPC URL>\`, or set WAIAAS_PROGRAM_SOURCE_RPC to one), ` +
        `or set WAIAAS_SQUADS_SO to a copy of the binary (sha256 ${SQUADS_V4_SHA256}). Nothing was created.`,
    );
  }
}
