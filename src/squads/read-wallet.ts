import type { AccountInfo, PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import bs58 from 'bs58';
import { WaiaasError } from '../core/errors.ts';
import type { SquadsAccountReader } from './account-reader.ts';
import type { LimitAsset, TokenAsset } from './assets.ts';
import { associatedTokenAddress, programConfigAddress, spendingLimitAddress, vaultAddress } from './pdas.ts';
import { SQUADS_PROGRAM_ID } from './program.ts';
import {
  decodeMultisig,
  decodeSpendingLimit,
  decodeTokenAmount,
  type MultisigState,
  type SpendingLimitState,
} from './wallet-state.ts';

export interface ProgramConfigState {
  readonly authority: PublicKey;
  readonly treasury: PublicKey;
  readonly multisigCreationFee: bigint;
}

export interface TokenBalance {
  readonly mint: PublicKey;
  /** The vault's associated token account. */
  readonly account: PublicKey;
  /** Zero when the account does not exist yet. */
  readonly amount: bigint;
  readonly exists: boolean;
}

export interface VaultBalances {
  readonly vault: PublicKey;
  readonly lamports: bigint;
  readonly tokens: readonly TokenBalance[];
}

export interface WalletState {
  readonly multisig: MultisigState;
  readonly vault: PublicKey;
  /** Every spending limit of the multisig on chain, whoever added it. */
  readonly spendingLimits: readonly SpendingLimitState[];
  readonly balances: VaultBalances;
}

/** Transport failures become CHAIN_UNAVAILABLE; our own refusals pass through. */
async function rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof WaiaasError) throw error;
    throw new WaiaasError('CHAIN_UNAVAILABLE', {
      message: `Reading ${what} from the chain failed`,
      details: { reason: error instanceof Error ? error.message.slice(0, 200) : String(error) },
      cause: error,
    });
  }
}

async function readAccounts(
  reader: SquadsAccountReader,
  what: string,
  keys: PublicKey[],
): Promise<(AccountInfo<Buffer> | null)[]> {
  return rpc(what, () => reader.getMultipleAccountsInfo(keys, 'confirmed'));
}

const notFound = (what: string, address: PublicKey) =>
  new WaiaasError('NOT_FOUND', {
    message: `No ${what} at ${address.toBase58()}`,
    details: { address: address.toBase58() },
  });

export async function readProgramConfig(reader: SquadsAccountReader): Promise<ProgramConfigState> {
  const address = programConfigAddress();
  const [info] = await readAccounts(reader, 'the Squads program config', [address]);
  if (!info?.owner.equals(SQUADS_PROGRAM_ID)) throw notFound('Squads program config', address);
  const [config] = multisig.accounts.ProgramConfig.fromAccountInfo(info);
  return {
    authority: config.authority,
    treasury: config.treasury,
    multisigCreationFee: BigInt(config.multisigCreationFee.toString()),
  };
}

export async function readMultisig(
  reader: SquadsAccountReader,
  multisigPda: PublicKey,
): Promise<MultisigState> {
  const [info] = await readAccounts(reader, 'the multisig', [multisigPda]);
  if (!info) throw notFound('multisig', multisigPda);
  return decodeMultisig(multisigPda, info);
}

/** All spending limits of the multisig, found by their account type and multisig field. */
export async function readSpendingLimits(
  reader: SquadsAccountReader,
  multisigPda: PublicKey,
): Promise<SpendingLimitState[]> {
  const found = await rpc('the spending limits', () =>
    reader.getProgramAccounts(SQUADS_PROGRAM_ID, {
      filters: [
        {
          memcmp: {
            offset: 0,
            bytes: bs58.encode(Buffer.from(multisig.generated.spendingLimitDiscriminator)),
          },
        },
        { memcmp: { offset: 8, bytes: multisigPda.toBase58() } },
      ],
    }),
  );
  return found
    .map(({ pubkey, account }) => decodeSpendingLimit(pubkey, account))
    .sort((a, b) => a.address.toBase58().localeCompare(b.address.toBase58()));
}

/**
 * The agent's limits for the given assets, at their derived addresses, in one getMultipleAccounts
 * request: for RPC providers that refuse or throttle getProgramAccounts. Absent limits are skipped.
 */
export async function readSpendingLimitsOf(
  reader: SquadsAccountReader,
  multisigPda: PublicKey,
  assets: readonly LimitAsset[],
): Promise<SpendingLimitState[]> {
  const addresses = assets.map((asset) => spendingLimitAddress(multisigPda, asset));
  const infos = await readAccounts(reader, 'the spending limits', addresses);
  return infos.flatMap((info, index) =>
    info ? [decodeSpendingLimit(addresses[index] as PublicKey, info)] : [],
  );
}

export async function readVaultBalances(
  reader: SquadsAccountReader,
  multisigPda: PublicKey,
  tokens: readonly Pick<TokenAsset, 'mint' | 'tokenProgram'>[] = [],
): Promise<VaultBalances> {
  const vault = vaultAddress(multisigPda);
  const tokenAccounts = tokens.map((token) => associatedTokenAddress(vault, token));
  const [vaultInfo, ...tokenInfos] = await readAccounts(reader, 'the vault balances', [
    vault,
    ...tokenAccounts,
  ]);
  return {
    vault,
    lamports: BigInt(vaultInfo?.lamports ?? 0),
    tokens: tokens.map((token, index) => {
      const info = tokenInfos[index] ?? null;
      return {
        mint: token.mint,
        account: tokenAccounts[index] as PublicKey,
        amount: info ? decodeTokenAmount(info) : 0n,
        exists: info !== null,
      };
    }),
  };
}

/** Config, every spending limit and the vault's balances (SOL and the named tokens). */
export async function readWallet(
  reader: SquadsAccountReader,
  multisigPda: PublicKey,
  tokens: readonly Pick<TokenAsset, 'mint' | 'tokenProgram'>[] = [],
): Promise<WalletState> {
  const [state, spendingLimits, balances] = await Promise.all([
    readMultisig(reader, multisigPda),
    readSpendingLimits(reader, multisigPda),
    readVaultBalances(reader, multisigPda, tokens),
  ]);
  return { multisig: state, vault: balances.vault, spendingLimits, balances };
}
