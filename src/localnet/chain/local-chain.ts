import { createHash } from 'node:crypto';
import bs58 from 'bs58';
import {
  Account,
  Clock,
  FailedTransactionMetadata,
  type LiteSvm,
  type SimulatedTransactionInfo,
  type SlotHashInput,
  type TransactionMetadata,
} from 'litesvm/dist/internal.js';
import { faucetKey } from '../localnet-keys.ts';
import { encodeBase58 } from './base58.ts';
import { BlockhashWindow, type IssuedBlockhash } from './blockhashes.ts';
import { ChainClock, type ChainTime, type ClockState, epochOf, SLOT_MS, SLOTS_PER_EPOCH } from './clock.ts';
import { encodeSignedTransfer, FAUCET_FLOAT, fundFaucet } from './faucet.ts';
import { feeForMessage } from './fees.ts';
import { isAccountWritable, messageAccountKeys, usesDurableNonce } from './message-accounts.ts';
import { signaturesVerify } from './signatures.ts';
import { isCommittedFailure, type TransactionErrorJson, transactionErrorJson } from './transaction-error.ts';
import {
  type ExecutionDetails,
  executionDetails,
  type SignatureStatus,
  TransactionHistory,
  type TransactionRecord,
} from './transaction-history.ts';
import { decodeWireTransaction, type WireMessage } from './wire-transaction.ts';

export interface ChainState {
  genesisHash: string;
  /** Null before the first start. */
  clock: ClockState | null;
  blockhashes: Array<[string, number]>;
  transactionCount: number;
}

export interface ProcessedTransaction {
  signature: string;
  slot: number;
  err: TransactionErrorJson | null;
  writableAccounts: Uint8Array[];
}

/** The outcome of submitting a transaction, in validator terms. */
export type SendOutcome =
  /** Executed and committed, successfully or not (fee charged, status recorded). */
  | { kind: 'processed'; signature: string; err: TransactionErrorJson | null }
  /** Preflight refused it: nothing changed on chain. */
  | { kind: 'rejected'; signature: string; err: TransactionErrorJson; execution: ExecutionDetails | null }
  /** Preflight skipped and it could not be processed: a validator would silently drop it. */
  | { kind: 'dropped'; signature: string; err: TransactionErrorJson };

export interface SimulationOutcome {
  err: TransactionErrorJson | null;
  execution: ExecutionDetails;
  /** Post-simulation state of the requested accounts (null where absent). */
  accounts: Array<Account | null> | null;
  replacementBlockhash: IssuedBlockhash | null;
}

const SLOT_HASHES_KEPT = 150;

const EMPTY_EXECUTION: ExecutionDetails = {
  logs: [],
  computeUnitsConsumed: 0,
  innerInstructions: [],
  returnData: null,
};

/**
 * LiteSVM plus what a validator adds around it: a clock that follows wall time, a window of recent
 * blockhashes, duplicate refusal, preflight semantics, signature statuses and a transaction ledger.
 * Everything is synchronous; callers serialize access by running on one event loop.
 */
export class LocalChain {
  readonly clock: ChainClock;
  readonly blockhashes: BlockhashWindow;
  readonly history: TransactionHistory;
  readonly genesisHash: string;
  transactionCount: number;
  private readonly processedListeners = new Set<(event: ProcessedTransaction) => void>();
  private readonly changeListeners = new Set<() => void>();
  private syncedSlot = -1;
  private syncedUnix = -1;
  private slotHashes: SlotHashInput[];

  constructor(
    readonly svm: LiteSvm,
    state: ChainState,
    historyLimit: number,
  ) {
    this.genesisHash = state.genesisHash;
    this.clock = new ChainClock(state.clock);
    this.blockhashes = new BlockhashWindow(state.blockhashes);
    this.history = new TransactionHistory(historyLimit);
    this.transactionCount = state.transactionCount;
    const now = this.clock.now().slot;
    this.slotHashes = svm
      .getSlotHashes()
      .map((entry) => ({ slot: entry.slot, hash: entry.hash }))
      .filter((entry) => entry.slot < BigInt(now));
  }

  state(): ChainState {
    return {
      genesisHash: this.genesisHash,
      clock: this.clock.state(),
      blockhashes: this.blockhashes.entries(),
      transactionCount: this.transactionCount,
    };
  }

  onProcessed(listener: (event: ProcessedTransaction) => void): () => void {
    this.processedListeners.add(listener);
    return () => this.processedListeners.delete(listener);
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Current slot and unix time; writes them into the Clock sysvar when they moved. */
  tick(): ChainTime {
    const time = this.clock.now();
    if (time.slot !== this.syncedSlot || time.unixTimestamp !== this.syncedUnix) {
      const epoch = epochOf(time.slot);
      const epochStart = time.unixTimestamp - Math.floor(((time.slot % SLOTS_PER_EPOCH) * SLOT_MS) / 1000);
      if (time.slot !== this.syncedSlot) this.enterSlot(time.slot);
      this.svm.setClock(
        new Clock(
          BigInt(time.slot),
          BigInt(epochStart),
          BigInt(epoch),
          BigInt(epoch + 1),
          BigInt(time.unixTimestamp),
        ),
      );
      this.syncedSlot = time.slot;
      this.syncedUnix = time.unixTimestamp;
    }
    return time;
  }

  /**
   * What a validator's new block changes besides the clock: SlotHashes (address lookup tables must
   * name a recent slot from it) and LiteSVM's internal blockhash (durable-nonce advances need a new one).
   */
  private enterSlot(slot: number): void {
    if (this.syncedSlot !== -1) this.svm.expireBlockhash();
    const first = Math.max(this.syncedSlot + 1, slot - SLOT_HASHES_KEPT + 1);
    const fresh: SlotHashInput[] = [];
    for (let s = slot; s >= first; s--) {
      fresh.push({
        slot: BigInt(s),
        hash: bs58.encode(createHash('sha256').update(`${this.genesisHash}:${s}`).digest()),
      });
    }
    this.slotHashes = [...fresh, ...this.slotHashes.filter((entry) => entry.slot < BigInt(first))].slice(
      0,
      SLOT_HASHES_KEPT,
    );
    this.svm.setSlotHashes(this.slotHashes);
  }

  advanceClock(seconds: number): ChainTime {
    this.clock.advance(seconds);
    const time = this.tick();
    this.changed();
    return time;
  }

  latestBlockhash(): IssuedBlockhash {
    return this.blockhashes.latest(this.tick().slot);
  }

  signatureStatus(signature: string): SignatureStatus | null {
    return this.history.status(signature);
  }

  /** Throws WireFormatError for bytes that are not a transaction. */
  send(bytes: Uint8Array, options: { skipPreflight?: boolean } = {}): SendOutcome {
    const transaction = decodeWireTransaction(bytes);
    const { message } = transaction;
    const signature = encodeBase58(transaction.signatures[0]!);
    const time = this.tick();
    const refuse = (err: TransactionErrorJson): SendOutcome =>
      options.skipPreflight && err !== 'SignatureFailure'
        ? { kind: 'dropped', signature, err }
        : { kind: 'rejected', signature, err, execution: null };
    if (!this.blockhashes.isValid(message.recentBlockhash, time.slot) && !usesDurableNonce(message)) {
      return refuse('BlockhashNotFound');
    }
    if (this.history.isRecent(signature)) return refuse('AlreadyProcessed');

    const { keys, loadedAddresses } = messageAccountKeys(
      message,
      (address) => this.svm.getAccount(address)?.data() ?? null,
    );
    const preBalances = keys.map((key) => this.svm.getBalance(key) ?? 0n);
    const result =
      message.version === 'legacy'
        ? this.svm.sendLegacyTransaction(bytes)
        : this.svm.sendVersionedTransaction(bytes);
    let err: TransactionErrorJson | null = null;
    let meta: TransactionMetadata;
    if (result instanceof FailedTransactionMetadata) {
      err = transactionErrorJson(result.err());
      meta = result.meta();
      if (!isCommittedFailure(err)) {
        return options.skipPreflight && err !== 'SignatureFailure'
          ? { kind: 'dropped', signature, err }
          : { kind: 'rejected', signature, err, execution: executionDetails(meta) };
      }
      if (!options.skipPreflight) {
        // Preflight would have caught it before submission, so undo the fee LiteSVM charged.
        this.restoreLamports(keys[0]!, preBalances[0]!);
        return { kind: 'rejected', signature, err, execution: executionDetails(meta) };
      }
    } else {
      meta = result;
    }

    const record: TransactionRecord = {
      seq: ++this.transactionCount,
      signature,
      slot: time.slot,
      blockTime: time.unixTimestamp,
      version: message.version,
      transaction: Uint8Array.from(bytes),
      err,
      fee: feeForMessage(message),
      preBalances,
      postBalances: keys.map((key) => this.svm.getBalance(key) ?? 0n),
      loadedAddresses,
      execution: meta,
    };
    this.history.add(record, time.slot);
    if (this.processedListeners.size > 0) {
      const writableAccounts = keys.filter((_, index) => isAccountWritable(message, index, loadedAddresses));
      for (const listener of this.processedListeners) {
        listener({ signature, slot: time.slot, err, writableAccounts });
      }
    }
    this.changed();
    return { kind: 'processed', signature, err };
  }

  /** Runs a transaction against current state without committing anything. */
  simulate(
    bytes: Uint8Array,
    options: { sigVerify?: boolean; replaceRecentBlockhash?: boolean; accounts?: Uint8Array[] } = {},
  ): SimulationOutcome {
    const transaction = decodeWireTransaction(bytes);
    const { message } = transaction;
    const time = this.tick();
    const sigVerify = options.sigVerify === true;
    if (sigVerify && !signaturesVerify(transaction)) {
      return {
        err: 'SignatureFailure',
        execution: EMPTY_EXECUTION,
        accounts: null,
        replacementBlockhash: null,
      };
    }
    const replacementBlockhash = options.replaceRecentBlockhash ? this.blockhashes.latest(time.slot) : null;
    const requested = options.accounts ?? null;
    if (
      !options.replaceRecentBlockhash &&
      !this.blockhashes.isValid(message.recentBlockhash, time.slot) &&
      !usesDurableNonce(message)
    ) {
      return { err: 'BlockhashNotFound', execution: EMPTY_EXECUTION, accounts: null, replacementBlockhash };
    }
    if (!sigVerify) this.svm.setSigverify(false);
    let result: SimulatedTransactionInfo | FailedTransactionMetadata;
    try {
      result =
        message.version === 'legacy'
          ? this.svm.simulateLegacyTransaction(bytes)
          : this.svm.simulateVersionedTransaction(bytes);
    } finally {
      if (!sigVerify) this.svm.setSigverify(true);
    }
    if (result instanceof FailedTransactionMetadata) {
      return {
        err: transactionErrorJson(result.err()),
        execution: executionDetails(result.meta()),
        accounts: null,
        replacementBlockhash,
      };
    }
    let accounts: Array<Account | null> | null = null;
    if (requested) {
      const post = new Map<string, Account>();
      for (const entry of result.postAccounts())
        post.set(Buffer.from(entry.address).toString('latin1'), entry.account());
      accounts = requested.map(
        (key) => post.get(Buffer.from(key).toString('latin1')) ?? this.svm.getAccount(key) ?? null,
      );
    }
    return { err: null, execution: executionDetails(result.meta()), accounts, replacementBlockhash };
  }

  /** Sends lamports from the faucet in a real, recorded transfer transaction. */
  airdrop(to: Uint8Array, lamports: bigint): SendOutcome {
    const faucetBalance = this.svm.getBalance(faucetKey.publicKey) ?? 0n;
    if (faucetBalance < lamports + FAUCET_FLOAT / 1000n) fundFaucet(this.svm, lamports + FAUCET_FLOAT);
    const { slot } = this.tick();
    let blockhash = bs58.decode(this.blockhashes.latest(slot).blockhash);
    let bytes = encodeSignedTransfer(faucetKey, to, lamports, blockhash);
    if (this.history.isRecent(encodeBase58(bytes.subarray(1, 65)))) {
      // Same recipient and amount within one blockhash would repeat the signature.
      blockhash = bs58.decode(this.blockhashes.issue(slot).blockhash);
      bytes = encodeSignedTransfer(faucetKey, to, lamports, blockhash);
    }
    return this.send(bytes);
  }

  /** Fee for a message whose blockhash is still valid, else null (as getFeeForMessage answers). */
  feeForMessage(message: WireMessage): bigint | null {
    const { slot } = this.tick();
    if (!this.blockhashes.isValid(message.recentBlockhash, slot) && !usesDurableNonce(message)) return null;
    return feeForMessage(message);
  }

  changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  private restoreLamports(address: Uint8Array, lamports: bigint): void {
    const account = this.svm.getAccount(address);
    if (!account) return;
    this.svm.setAccount(
      address,
      new Account(lamports, account.data(), account.owner(), account.executable(), account.rentEpoch()),
    );
  }
}
