/**
 * LiteSVM in-process with the real Squads v4 program (the mainnet binary, pinned by hash) and its
 * ProgramConfig account written directly, as DESIGN.md §8 describes. Transactions go in as wire
 * bytes, exactly what a validator receives; accounts come back through the same narrow reader
 * interface the src/squads readers use with a web3.js Connection.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  type AccountInfo,
  type Commitment,
  Keypair,
  PublicKey,
  SystemProgram,
  type Transaction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import bs58 from 'bs58';
import {
  Account,
  Clock,
  type FailedTransactionMetadata,
  LiteSvm,
  type TransactionMetadata,
} from 'litesvm/dist/internal.js';
import {
  type TransactionErrorJson,
  transactionErrorJson,
} from '../../src/localnet/chain/transaction-error.ts';
import { resolveSquadsBinaryPath, SQUADS_V4_SHA256, sha256Hex } from '../../src/localnet/squads-program.ts';
import type { ProgramAccountsFilter, SquadsAccountReader } from '../../src/squads/account-reader.ts';

export const SQUADS_PROGRAM = new PublicKey('SQDS4ep65T869zMMBKyuUq6aD6EgTu8psMjkvj52pCf');

let skipReported = false;

/** The pinned binary's bytes, or null after one loud `SKIPPED (...)` line when it is not here. */
export function squadsBinaryOrSkip(): Uint8Array | null {
  const path = resolveSquadsBinaryPath();
  const reason = !existsSync(path)
    ? `Squads v4 binary missing at ${path}; run \`waiaas programs fetch\``
    : sha256Hex(readFileSync(path)) !== SQUADS_V4_SHA256
      ? `Squads v4 binary at ${path} does not have the pinned sha256`
      : null;
  if (reason === null) return readFileSync(path);
  if (!skipReported) {
    process.stderr.write(`SKIPPED (${reason}): Squads chain tests did not run\n`);
    skipReported = true;
  }
  return null;
}

export type SendResult =
  | { ok: true; signature: Uint8Array; computeUnits: number; logs: string[] }
  | { ok: false; err: TransactionErrorJson; computeUnits: number; logs: string[] };

const isFailed = (
  result: TransactionMetadata | FailedTransactionMetadata,
): result is FailedTransactionMetadata => 'err' in result;

export class SquadsSvm implements SquadsAccountReader {
  readonly svm: LiteSvm;
  /** The treasury stored in ProgramConfig: create must pass exactly this one. */
  readonly treasury = Keypair.generate().publicKey;

  constructor(binary: Uint8Array) {
    this.svm = new LiteSvm();
    this.svm.setSigverify(true);
    // Like a validator, accept a repeated transaction with a new blockhash; here every send may reuse
    // the same blockhash, so duplicate refusal is left to the tests that ask for it.
    this.svm.setTransactionHistory(0n);
    this.svm.addProgram(SQUADS_PROGRAM.toBytes(), binary);
    const [data] = multisig.accounts.ProgramConfig.fromArgs({
      authority: Keypair.generate().publicKey,
      multisigCreationFee: 0,
      treasury: this.treasury,
      reserved: new Array(64).fill(0),
    }).serialize();
    const lamports = this.svm.minimumBalanceForRentExemption(BigInt(data.length));
    const address = multisig.getProgramConfigPda({})[0];
    this.svm.setAccount(address.toBytes(), new Account(lamports, data, SQUADS_PROGRAM.toBytes(), false, 0n));
    this.setUnixTime(1_700_000_000n);
  }

  blockhash(): string {
    return this.svm.latestBlockhash();
  }

  airdrop(to: PublicKey, lamports: bigint): void {
    const result = this.svm.airdrop(to.toBytes(), lamports);
    if (result === null || isFailed(result)) throw new Error(`airdrop to ${to.toBase58()} failed`);
  }

  /** A funded fresh key. */
  funded(lamports = 10_000_000_000n): Keypair {
    const key = Keypair.generate();
    this.airdrop(key.publicKey, lamports);
    return key;
  }

  /** Sends signed wire bytes, as a validator receives them. */
  sendWire(wire: Uint8Array): SendResult {
    const versioned = ((wire[1 + (wire[0] ?? 0) * 64] ?? 0) & 0x80) !== 0;
    const result = versioned ? this.svm.sendVersionedTransaction(wire) : this.svm.sendLegacyTransaction(wire);
    if (isFailed(result)) {
      const meta = result.meta();
      return {
        ok: false,
        err: transactionErrorJson(result.err()),
        computeUnits: Number(meta.computeUnitsConsumed()),
        logs: meta.logs(),
      };
    }
    return {
      ok: true,
      signature: result.signature(),
      computeUnits: Number(result.computeUnitsConsumed()),
      logs: result.logs(),
    };
  }

  /** Signs with the given keys (in addition to signatures already present) and sends. */
  send(transaction: VersionedTransaction | Transaction, signers: Keypair[] = []): SendResult {
    if (transaction instanceof VersionedTransaction) {
      if (signers.length > 0) transaction.sign(signers);
      return this.sendWire(transaction.serialize());
    }
    if (signers.length > 0) transaction.partialSign(...signers);
    return this.sendWire(transaction.serialize());
  }

  /** Same as send, failing the test with the logs when the chain refuses. */
  sendOk(transaction: VersionedTransaction | Transaction, signers: Keypair[] = []): number {
    const result = this.send(transaction, signers);
    if (!result.ok) {
      throw new Error(`transaction failed: ${JSON.stringify(result.err)}\n${result.logs.join('\n')}`);
    }
    return result.computeUnits;
  }

  /** A plain SOL transfer, paid and signed by `from`. */
  transferSol(from: Keypair, to: PublicKey, lamports: bigint): void {
    const message = new TransactionMessage({
      payerKey: from.publicKey,
      recentBlockhash: this.blockhash(),
      instructions: [SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports })],
    }).compileToV0Message();
    this.sendOk(new VersionedTransaction(message), [from]);
  }

  balance(address: PublicKey): bigint {
    return this.svm.getBalance(address.toBytes()) ?? 0n;
  }

  exists(address: PublicKey): boolean {
    const account = this.svm.getAccount(address.toBytes());
    return account !== null && account.lamports() > 0n;
  }

  unixTime(): bigint {
    return this.svm.getClock().unixTimestamp;
  }

  setUnixTime(unixTimestamp: bigint): void {
    const clock = this.svm.getClock();
    this.svm.setClock(
      new Clock(
        clock.slot + 1n,
        clock.epochStartTimestamp,
        clock.epoch,
        clock.leaderScheduleEpoch,
        unixTimestamp,
      ),
    );
  }

  advanceSeconds(seconds: bigint): void {
    this.setUnixTime(this.unixTime() + seconds);
  }

  async getMultipleAccountsInfo(
    publicKeys: PublicKey[],
    _commitment?: Commitment,
  ): Promise<(AccountInfo<Buffer> | null)[]> {
    return publicKeys.map((key) => this.accountInfo(key));
  }

  async getProgramAccounts(
    programId: PublicKey,
    config: { filters: ProgramAccountsFilter[] },
  ): Promise<{ pubkey: PublicKey; account: AccountInfo<Buffer> }[]> {
    const matches = (data: Buffer) =>
      config.filters.every((filter) => {
        if ('dataSize' in filter) return data.length === filter.dataSize;
        const expected = Buffer.from(bs58.decode(filter.memcmp.bytes));
        return data.subarray(filter.memcmp.offset, filter.memcmp.offset + expected.length).equals(expected);
      });
    return this.svm
      .getProgramAccounts(programId.toBytes())
      .map((entry) => ({ pubkey: new PublicKey(entry.address), account: toAccountInfo(entry.account()) }))
      .filter((entry) => entry.account.lamports > 0 && matches(entry.account.data));
  }

  private accountInfo(key: PublicKey): AccountInfo<Buffer> | null {
    const account = this.svm.getAccount(key.toBytes());
    if (account === null || account.lamports() === 0n) return null;
    return toAccountInfo(account);
  }
}

const toAccountInfo = (account: Account): AccountInfo<Buffer> => ({
  lamports: Number(account.lamports()),
  data: Buffer.from(account.data()),
  owner: new PublicKey(account.owner()),
  executable: account.executable(),
  rentEpoch: 0,
});

/** A fresh chain with the Squads program, or null (after the SKIPPED line) without the binary. */
export function squadsSvmOrSkip(): SquadsSvm | null {
  const binary = squadsBinaryOrSkip();
  return binary === null ? null : new SquadsSvm(binary);
}
