/** Small chain reads the owner acts and status routes need: token mints and the cluster's clock. */
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, unpackMint } from '@solana/spl-token';
import { type Connection, PublicKey, SYSVAR_CLOCK_PUBKEY } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import type { TokenAsset } from '../../squads/index.ts';

const chainUnavailable = (what: string, error: unknown) =>
  new WaiaasError('CHAIN_UNAVAILABLE', {
    message: `Reading ${what} from the chain failed`,
    details: { reason: error instanceof Error ? error.message.slice(0, 200) : String(error) },
    cause: error,
  });

/**
 * Each mint as a transfer needs it (decimals, token program), or undefined where no token mint is
 * (yet) at that address.
 */
export async function readTokenAssets(
  connection: Connection,
  mints: readonly PublicKey[],
): Promise<(TokenAsset | undefined)[]> {
  if (mints.length === 0) return [];
  let infos: Awaited<ReturnType<Connection['getMultipleAccountsInfo']>>;
  try {
    infos = await connection.getMultipleAccountsInfo([...mints], 'confirmed');
  } catch (error) {
    throw chainUnavailable('token mints', error);
  }
  return mints.map((mint, index) => {
    const info = infos[index];
    if (!info || !(info.owner.equals(TOKEN_PROGRAM_ID) || info.owner.equals(TOKEN_2022_PROGRAM_ID))) {
      return undefined;
    }
    try {
      const { decimals } = unpackMint(mint, info, info.owner);
      return { mint, decimals, tokenProgram: info.owner };
    } catch {
      return undefined;
    }
  });
}

export async function readTokenAsset(connection: Connection, mint: PublicKey): Promise<TokenAsset> {
  const [asset] = await readTokenAssets(connection, [mint]);
  if (asset === undefined) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: `No SPL token mint at ${mint.toBase58()}`,
      details: { field: 'mint' },
    });
  }
  return asset;
}

// Clock sysvar layout: slot u64, epoch_start_timestamp i64, epoch u64, leader_schedule_epoch u64, unix_timestamp i64.
const UNIX_TIMESTAMP_OFFSET = 32;

/** The cluster's unix time (Clock sysvar), which spending-limit periods are counted in. */
export async function readChainUnixTime(connection: Connection): Promise<bigint> {
  let data: Buffer | undefined;
  try {
    data = (await connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY, 'confirmed'))?.data;
  } catch (error) {
    throw chainUnavailable('the clock', error);
  }
  if (data === undefined || data.length < UNIX_TIMESTAMP_OFFSET + 8) {
    throw chainUnavailable('the clock', new Error('no Clock sysvar account'));
  }
  return data.readBigInt64LE(UNIX_TIMESTAMP_OFFSET);
}

export const toPublicKeys = (addresses: readonly string[]): PublicKey[] =>
  addresses.map((address) => new PublicKey(address));
