/** The vault's balances as the chain holds them: SOL, and each token the wallet's policy names. */
import { PublicKey } from '@solana/web3.js';
import type { PolicyDocument } from '../../core/policy.ts';
import { readVaultBalances } from '../../squads/index.ts';
import type { Wallet } from '../../store/index.ts';
import { latestOwnerAct } from '../../store/owner-acts.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { readTokenAssets } from './chain-reads.ts';
import { policyInForce } from './common.ts';

export interface WalletBalance {
  readonly walletId: string;
  readonly vault: string;
  /** Lamports. */
  readonly sol: string;
  readonly tokens: {
    readonly mint: string;
    /** The vault's associated token account. */
    readonly account: string;
    /** Base units; "0" when the account does not exist. */
    readonly amount: string;
    readonly decimals: number | null;
    readonly exists: boolean;
  }[];
}

/**
 * The mints the wallet deals in: those of the policy in force and, while frozen (when the policy in
 * force names no asset), those of the policy it will resume with.
 */
export async function walletMints(runtime: Runtime, wallet: Wallet): Promise<PublicKey[]> {
  const assets = new Set(Object.keys(policyInForce(wallet).document.assets));
  if (wallet.status === 'frozen') {
    const freeze = await latestOwnerAct(runtime.store.db, wallet.id, 'freeze');
    const restore = freeze?.detail.restorePolicy as PolicyDocument | undefined;
    for (const asset of Object.keys(restore?.assets ?? {})) assets.add(asset);
  }
  assets.delete('SOL');
  return [...assets].sort().map((mint) => new PublicKey(mint));
}

export async function readWalletBalance(runtime: Runtime, wallet: Wallet): Promise<WalletBalance> {
  const connection = runtime.chain.connection;
  const mints = await walletMints(runtime, wallet);
  const tokens = await readTokenAssets(connection, mints);
  const balances = await readVaultBalances(
    connection,
    new PublicKey(wallet.multisig),
    mints.map((mint, index) => tokens[index] ?? { mint }),
  );
  return {
    walletId: wallet.id,
    vault: balances.vault.toBase58(),
    sol: balances.lamports.toString(),
    tokens: balances.tokens.map((token, index) => ({
      mint: token.mint.toBase58(),
      account: token.account.toBase58(),
      amount: token.amount.toString(),
      decimals: tokens[index]?.decimals ?? null,
      exists: token.exists,
    })),
  };
}
