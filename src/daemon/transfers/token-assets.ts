/**
 * SPL token facts the pipeline needs, read from the chain once: a mint's decimals and token program
 * (immutable, cached for the daemon's life), and which associated token accounts already exist
 * (accounts are never closed by us; a closed one makes the transfer fail on chain, and is forgotten).
 */
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import type { ChainClient } from '../../solana/chain-client.ts';
import type { TokenAsset, TransferAsset } from '../../squads/index.ts';

/** Offset of `decimals` in a mint account (mint authority option + key, supply) in both token programs. */
const MINT_DECIMALS_OFFSET = 44;
const MAX_KNOWN_ACCOUNTS = 100_000;

const chainUnavailable = (what: string, error: unknown) =>
  new WaiaasError('CHAIN_UNAVAILABLE', {
    message: `Reading ${what} from the chain failed`,
    details: { reason: error instanceof Error ? error.message.slice(0, 200) : String(error) },
    cause: error,
  });

export class TokenAssets {
  readonly #mints = new Map<string, Promise<TokenAsset>>();
  readonly #accounts = new Set<string>();

  /** SOL, or the token with its decimals and program as the mint account says. */
  async transferAsset(chain: ChainClient, asset: string): Promise<TransferAsset> {
    if (asset === 'SOL') return 'SOL';
    let token = this.#mints.get(asset);
    if (!token) {
      token = readMint(chain, asset);
      this.#mints.set(asset, token);
      token.catch(() => this.#mints.delete(asset));
    }
    return token;
  }

  knownAccount(address: PublicKey): boolean {
    return this.#accounts.has(address.toBase58());
  }

  rememberAccount(address: PublicKey): void {
    if (this.#accounts.size >= MAX_KNOWN_ACCOUNTS) this.#accounts.clear();
    this.#accounts.add(address.toBase58());
  }

  forgetAccount(address: PublicKey): void {
    this.#accounts.delete(address.toBase58());
  }
}

async function readMint(chain: ChainClient, mintAddress: string): Promise<TokenAsset> {
  const mint = new PublicKey(mintAddress);
  let info: Awaited<ReturnType<ChainClient['connection']['getAccountInfo']>>;
  try {
    info = await chain.connection.getAccountInfo(mint, 'confirmed');
  } catch (error) {
    throw chainUnavailable('the token mint', error);
  }
  const tokenProgram = info?.owner;
  if (
    !info ||
    !tokenProgram ||
    !(tokenProgram.equals(TOKEN_PROGRAM_ID) || tokenProgram.equals(TOKEN_2022_PROGRAM_ID)) ||
    info.data.length <= MINT_DECIMALS_OFFSET
  ) {
    throw new WaiaasError('INVALID_ADDRESS', {
      message: `${mintAddress} is not an SPL token mint`,
      details: { field: 'mint', mint: mintAddress },
    });
  }
  return { mint, decimals: info.data[MINT_DECIMALS_OFFSET]!, tokenProgram };
}
