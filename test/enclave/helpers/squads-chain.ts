/**
 * A WAIaaS wallet on LiteSVM running the real Squads v4 program: a controlled 2-of-2 multisig
 * (owner: all permissions and config authority; agent: Initiate | Vote), a funded vault, and one
 * spending limit per policy asset under the enclave's createKey convention. Transactions are built with
 * @sqds/multisig and web3.js 1.x and executed through their wire bytes.
 */
import { readFileSync } from 'node:fs';
import { getTransactionDecoder } from '@solana/kit';
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
  PublicKey,
  type PublicKey as PublicKeyType,
  SystemProgram,
  type TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { type FailedTransactionMetadata, LiteSVM, type TransactionMetadata } from 'litesvm';
import { SQUADS_V4_SHA256, sha256Hex } from '../../../src/localnet/squads-program.ts';
import {
  spendingLimitAddress,
  spendingLimitCreateKey,
  vaultAddress,
} from '../../../src/solana/inspect/pda.ts';

const { Permission, Permissions } = multisig.types;

export type SendResult =
  | { ok: true; meta: TransactionMetadata }
  | { ok: false; error: string; logs: string[] };

export interface ChainWallet {
  readonly multisig: PublicKeyType;
  readonly vault: PublicKeyType;
  readonly spendingLimits: Map<string, PublicKeyType>;
}

export class SquadsChain {
  readonly svm: LiteSVM;
  readonly feePayer = Keypair.generate();
  readonly owner = Keypair.generate();
  readonly treasury = Keypair.generate().publicKey;

  constructor(squadsSo: string) {
    const binary = readFileSync(squadsSo);
    if (sha256Hex(binary) !== SQUADS_V4_SHA256)
      throw new Error(`${squadsSo} is not the pinned Squads v4 binary`);
    this.svm = new LiteSVM();
    this.svm.addProgram(multisig.PROGRAM_ADDRESS as never, binary);
    const [programConfig] = multisig.getProgramConfigPda({});
    const [data] = multisig.accounts.ProgramConfig.fromArgs({
      authority: this.owner.publicKey,
      multisigCreationFee: 0,
      treasury: this.treasury,
      reserved: new Array(64).fill(0),
    }).serialize();
    this.svm.setAccount({
      address: programConfig.toBase58() as never,
      data: new Uint8Array(data),
      executable: false,
      lamports: this.svm.minimumBalanceForRentExemption(BigInt(data.length)) as never,
      programAddress: multisig.PROGRAM_ADDRESS as never,
      space: BigInt(data.length),
    } as never);
    this.airdrop(this.feePayer.publicKey, 100_000_000_000n);
    this.airdrop(this.owner.publicKey, 10_000_000_000n);
  }

  airdrop(to: PublicKeyType, lamports: bigint): void {
    this.svm.airdrop(to.toBase58() as never, lamports as never);
  }

  balance(of: PublicKeyType): bigint {
    return BigInt(this.svm.getBalance(of.toBase58() as never) ?? 0n);
  }

  tokenBalance(account: PublicKeyType): bigint {
    const info = this.svm.getAccount(account.toBase58() as never);
    if (!info.exists) return 0n;
    return Buffer.from(info.data).readBigUInt64LE(64);
  }

  nowSeconds(): number {
    return Number(this.svm.getClock().unixTimestamp);
  }

  setNow(unixSeconds: number): void {
    const clock = this.svm.getClock();
    clock.unixTimestamp = BigInt(unixSeconds);
    this.svm.setClock(clock);
  }

  /** The message bytes to sign for `instructions`, paid by the fee payer (or `payer`). */
  message(
    instructions: TransactionInstruction[],
    payer: PublicKeyType = this.feePayer.publicKey,
    legacy = false,
  ) {
    const compiled = new TransactionMessage({
      payerKey: payer,
      recentBlockhash: this.svm.latestBlockhash(),
      instructions,
    });
    const transaction = new VersionedTransaction(
      legacy ? compiled.compileToLegacyMessage() : compiled.compileToV0Message(),
    );
    return transaction;
  }

  /** Sends a transaction with the given extra signatures (e.g. the enclave's) after the local signers sign. */
  send(
    transaction: VersionedTransaction,
    localSigners: Keypair[],
    external: { publicKey: PublicKeyType; signature: Uint8Array }[] = [],
  ): SendResult {
    transaction.sign(localSigners);
    for (const { publicKey, signature } of external) transaction.addSignature(publicKey, signature);
    const decoded = getTransactionDecoder().decode(transaction.serialize());
    const result = this.svm.sendTransaction(decoded);
    this.svm.expireBlockhash();
    if ('err' in result) {
      const failed = result as FailedTransactionMetadata;
      return { ok: false, error: failed.toString(), logs: failed.meta().logs() };
    }
    return { ok: true, meta: result as TransactionMetadata };
  }

  sendInstructions(instructions: TransactionInstruction[], signers: Keypair[]): SendResult {
    return this.send(this.message(instructions), [this.feePayer, ...signers]);
  }

  /** A controlled multisig (owner + agent, threshold 2), its vault funded, spending limits per asset. */
  /** A multisig address is known before it exists: the PDA of a fresh create key. */
  static newMultisigAddress(): { createKey: Keypair; multisig: PublicKeyType } {
    const createKey = Keypair.generate();
    return { createKey, multisig: multisig.getMultisigPda({ createKey: createKey.publicKey })[0] };
  }

  createWallet(options: {
    createKey: Keypair;
    agent: PublicKeyType;
    limits: { asset: string; amount: bigint; destinations: PublicKeyType[] }[];
    vaultLamports?: bigint;
  }): ChainWallet {
    const createKey = options.createKey;
    const [multisigPda] = multisig.getMultisigPda({ createKey: createKey.publicKey });
    const create = multisig.instructions.multisigCreateV2({
      treasury: this.treasury,
      creator: this.feePayer.publicKey,
      multisigPda,
      configAuthority: this.owner.publicKey,
      threshold: 2,
      members: [
        { key: this.owner.publicKey, permissions: Permissions.all() },
        {
          key: options.agent,
          permissions: Permissions.fromPermissions([Permission.Initiate, Permission.Vote]),
        },
      ],
      timeLock: 0,
      createKey: createKey.publicKey,
      rentCollector: null,
    });
    const created = this.sendInstructions([create], [createKey]);
    if (!created.ok) throw new Error(`multisigCreateV2 failed: ${created.error}\n${created.logs.join('\n')}`);
    const wallet: ChainWallet = {
      multisig: multisigPda,
      vault: new PublicKey(vaultAddress(multisigPda.toBytes())),
      spendingLimits: new Map(),
    };
    this.airdrop(wallet.vault, options.vaultLamports ?? 50_000_000_000n);
    for (const limit of options.limits) this.addSpendingLimit(wallet, options.agent, limit);
    return wallet;
  }

  addSpendingLimit(
    wallet: ChainWallet,
    agent: PublicKeyType,
    limit: { asset: string; amount: bigint; destinations: PublicKeyType[] },
  ): void {
    const spendingLimit = new PublicKey(spendingLimitAddress(wallet.multisig.toBytes(), limit.asset));
    const instruction = multisig.instructions.multisigAddSpendingLimit({
      multisigPda: wallet.multisig,
      configAuthority: this.owner.publicKey,
      spendingLimit,
      rentPayer: this.feePayer.publicKey,
      createKey: new PublicKey(spendingLimitCreateKey(wallet.multisig.toBytes(), limit.asset)),
      vaultIndex: 0,
      mint: limit.asset === 'SOL' ? PublicKey.default : new PublicKey(limit.asset),
      amount: limit.amount,
      period: multisig.types.Period.Day,
      members: [agent],
      destinations: limit.destinations,
    });
    const added = this.sendInstructions([instruction], [this.owner]);
    if (!added.ok)
      throw new Error(`multisigAddSpendingLimit failed: ${added.error}\n${added.logs.join('\n')}`);
    wallet.spendingLimits.set(limit.asset, spendingLimit);
  }

  /** A new SPL mint (6 decimals) with `amount` minted to the vault's associated token account. */
  createMint(
    mint: Keypair,
    vault: PublicKeyType,
    amount: bigint,
    recipients: PublicKeyType[],
  ): PublicKeyType {
    const rent = this.svm.minimumBalanceForRentExemption(BigInt(MINT_SIZE));
    const vaultAta = getAssociatedTokenAddressSync(mint.publicKey, vault, true);
    const instructions: TransactionInstruction[] = [
      SystemProgram.createAccount({
        fromPubkey: this.feePayer.publicKey,
        newAccountPubkey: mint.publicKey,
        lamports: Number(rent),
        space: MINT_SIZE,
        programId: TOKEN_PROGRAM_ID,
      }),
      createInitializeMint2Instruction(mint.publicKey, 6, this.owner.publicKey, null),
      createAssociatedTokenAccountIdempotentInstruction(
        this.feePayer.publicKey,
        vaultAta,
        vault,
        mint.publicKey,
      ),
      ...recipients.map((recipient) =>
        createAssociatedTokenAccountIdempotentInstruction(
          this.feePayer.publicKey,
          getAssociatedTokenAddressSync(mint.publicKey, recipient, true),
          recipient,
          mint.publicKey,
        ),
      ),
      createMintToInstruction(mint.publicKey, vaultAta, this.owner.publicKey, amount),
    ];
    const sent = this.sendInstructions(instructions, [mint, this.owner]);
    if (!sent.ok) throw new Error(`mint setup failed: ${sent.error}\n${sent.logs.join('\n')}`);
    return mint.publicKey;
  }

  /** The owner approves proposal `index` and executes its vault transaction. */
  async approveAndExecute(wallet: ChainWallet, index: bigint): Promise<SendResult> {
    const approve = multisig.instructions.proposalApprove({
      multisigPda: wallet.multisig,
      transactionIndex: index,
      member: this.owner.publicKey,
    });
    const approved = this.sendInstructions([approve], [this.owner]);
    if (!approved.ok) return approved;
    const { instruction } = await multisig.instructions.vaultTransactionExecute({
      connection: this.connection() as never,
      multisigPda: wallet.multisig,
      transactionIndex: index,
      member: this.owner.publicKey,
    });
    return this.sendInstructions([instruction], [this.owner]);
  }

  /** Just enough of a web3.js Connection for the SDK's account reads, served from LiteSVM. */
  connection() {
    return {
      getAccountInfo: async (address: PublicKeyType) => {
        const account = this.svm.getAccount(address.toBase58() as never);
        if (!account.exists) return null;
        return {
          data: Buffer.from(account.data),
          executable: account.executable,
          lamports: Number(account.lamports),
          owner: new PublicKey(account.programAddress),
          rentEpoch: 0,
        };
      },
    };
  }
}
