/**
 * Wallets on the in-process chain, built only through src/squads builders and signed the way the
 * daemon will sign them: the owner through an OwnerSigner (src/keys signWeb3Transaction), the fee
 * payer, create key and agent with their own keys.
 */
import { randomBytes } from 'node:crypto';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createInitializeMint2Instruction,
  createMintToInstruction,
  getAssociatedTokenAddressSync,
  MINT_SIZE,
  TOKEN_PROGRAM_ID,
} from '@solana/spl-token';
import {
  Keypair,
  type PublicKey,
  SystemProgram,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import type { Address } from '../../src/core/address.ts';
import { privateKeyFromSeed, signEd25519 } from '../../src/keys/ed25519.ts';
import { signWeb3Transaction } from '../../src/keys/sign-transaction.ts';
import type { OwnerSigner } from '../../src/keys/types.ts';
import type { SpendingLimitSpec, TokenAsset } from '../../src/squads/assets.ts';
import { buildCreateWallet } from '../../src/squads/create-wallet.ts';
import type { PeriodRecord } from '../../src/squads/owner-acts/budget-carry.ts';
import type { BudgetContext } from '../../src/squads/owner-acts/wallet-config.ts';
import { readProgramConfig } from '../../src/squads/read-wallet.ts';
import type { SquadsSvm } from '../support/svm.ts';

export interface OwnerKeyPair {
  readonly publicKey: PublicKey;
  readonly signer: OwnerSigner;
}

/** An owner key held in memory, behind the OwnerSigner interface the daemon signs through. */
export function inMemoryOwner(): OwnerKeyPair {
  const seed = randomBytes(32);
  const keypair = Keypair.fromSeed(seed);
  const privateKey = privateKeyFromSeed(seed);
  return {
    publicKey: keypair.publicKey,
    signer: {
      publicKey: async () => keypair.publicKey.toBase58() as Address,
      sign: async (message) => signEd25519(privateKey, message),
    },
  };
}

export interface TestWallet {
  readonly chain: SquadsSvm;
  readonly payer: Keypair;
  readonly owner: OwnerKeyPair;
  readonly agent: Keypair;
  readonly multisig: PublicKey;
  readonly vault: PublicKey;
}

/** Signs as the owner (through its OwnerSigner) plus the given keys, then sends; returns the result. */
export async function sendAsOwner(
  wallet: Pick<TestWallet, 'chain' | 'owner'>,
  tx: VersionedTransaction,
  signers: Keypair[],
) {
  await signWeb3Transaction(wallet.owner.signer, tx);
  return wallet.chain.send(tx, signers);
}

export async function sendAsOwnerOk(
  wallet: Pick<TestWallet, 'chain' | 'owner'>,
  tx: VersionedTransaction,
  signers: Keypair[],
): Promise<number> {
  const result = await sendAsOwner(wallet, tx, signers);
  if (!result.ok)
    throw new Error(`owner transaction failed: ${JSON.stringify(result.err)}\n${result.logs.join('\n')}`);
  return result.computeUnits;
}

export async function createTestWallet(
  chain: SquadsSvm,
  limits: readonly SpendingLimitSpec[],
  vaultLamports = 50_000_000_000n,
): Promise<TestWallet & { computeUnits: number[] }> {
  const payer = chain.funded(100_000_000_000n);
  const owner = inMemoryOwner();
  const agent = Keypair.generate();
  const createKey = Keypair.generate();
  const { treasury } = await readProgramConfig(chain);
  const creation = buildCreateWallet({
    createKey: createKey.publicKey,
    owner: owner.publicKey,
    agent: agent.publicKey,
    feePayer: payer.publicKey,
    treasury,
    limits,
    recentBlockhash: chain.blockhash(),
  });
  const wallet = { chain, payer, owner, agent, multisig: creation.multisig, vault: creation.vault };
  const computeUnits: number[] = [];
  for (const [index, tx] of creation.transactions.entries()) {
    computeUnits.push(await sendAsOwnerOk(wallet, tx, index === 0 ? [payer, createKey] : [payer]));
  }
  if (vaultLamports > 0n) chain.airdrop(creation.vault, vaultLamports);
  return { ...wallet, computeUnits };
}

function sendPlain(
  chain: SquadsSvm,
  payer: Keypair,
  instructions: Parameters<typeof compile>[2],
  signers: Keypair[],
) {
  chain.sendOk(compile(chain, payer, instructions), [payer, ...signers]);
}

function compile(
  chain: SquadsSvm,
  payer: Keypair,
  instructions: ConstructorParameters<typeof TransactionMessage>[0]['instructions'],
) {
  return new VersionedTransaction(
    new TransactionMessage({
      payerKey: payer.publicKey,
      recentBlockhash: chain.blockhash(),
      instructions,
    }).compileToV0Message(),
  );
}

/** A new SPL mint (classic Token program) whose mint authority is `authority`. */
export function createMint(chain: SquadsSvm, authority: Keypair, decimals = 6): TokenAsset {
  const mint = Keypair.generate();
  const rent = chain.svm.minimumBalanceForRentExemption(BigInt(MINT_SIZE));
  sendPlain(
    chain,
    authority,
    [
      SystemProgram.createAccount({
        fromPubkey: authority.publicKey,
        newAccountPubkey: mint.publicKey,
        lamports: Number(rent),
        space: MINT_SIZE,
        programId: TOKEN_PROGRAM_ID,
      }),
      createInitializeMint2Instruction(mint.publicKey, decimals, authority.publicKey, null),
    ],
    [mint],
  );
  return { mint: mint.publicKey, decimals };
}

/** Mints `amount` to `holder`'s associated token account, creating it if needed. */
export function mintTo(
  chain: SquadsSvm,
  authority: Keypair,
  token: TokenAsset,
  holder: PublicKey,
  amount: bigint,
): void {
  const holderAccount = getAssociatedTokenAddressSync(token.mint, holder, true);
  sendPlain(
    chain,
    authority,
    [
      createAssociatedTokenAccountIdempotentInstruction(
        authority.publicKey,
        holderAccount,
        holder,
        token.mint,
      ),
      createMintToInstruction(token.mint, holderAccount, authority.publicKey, amount),
    ],
    [],
  );
}

/** The token balance of `owner`'s associated token account (0 when it does not exist). */
export function tokenBalance(chain: SquadsSvm, owner: PublicKey, token: TokenAsset): bigint {
  const account = chain.svm.getAccount(getAssociatedTokenAddressSync(token.mint, owner, true).toBytes());
  if (account === null) return 0n;
  return Buffer.from(account.data()).readBigUInt64LE(64);
}

/** Program ids of a compiled transaction's top-level instructions. */
export function programIdsOf(tx: VersionedTransaction): string[] {
  const keys = tx.message.staticAccountKeys;
  return tx.message.compiledInstructions.map(
    (instruction) => keys[instruction.programIdIndex]?.toBase58() ?? '?',
  );
}

/**
 * What an owner act needs to carry today's spending (src/squads/owner-acts/budget-carry.ts), read from
 * the in-process chain: its clock and the vault's balances, with `records` of earlier acts (none by
 * default).
 */
export function chainBudget(
  chain: SquadsSvm,
  vault: PublicKey,
  tokens: readonly TokenAsset[] = [],
  records: ReadonlyMap<string, readonly PeriodRecord[]> = new Map(),
): BudgetContext {
  return {
    chainTime: chain.unixTime(),
    balances: new Map([
      ['SOL', chain.balance(vault)],
      ...tokens.map((token) => [token.mint.toBase58(), tokenBalance(chain, vault, token)] as const),
    ]),
    tokens: new Map(tokens.map((token) => [token.mint.toBase58(), token])),
    records,
  };
}
