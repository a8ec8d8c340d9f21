import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LiteSvm } from 'litesvm/dist/internal.js';
import { WaiaasError } from '../core/errors.ts';
import type { ChainState, LocalChain } from './chain/local-chain.ts';
import { recordFromLine, recordToLine, type TransactionRecord } from './chain/transaction-history.ts';
import type { Logger } from './rpc/dispatch.ts';

export interface LocalnetFiles {
  dir: string;
  /** LiteSVM's own snapshot (toBytes/fromBytes). */
  snapshot: string;
  /** Our bookkeeping: genesis hash, clock, blockhash window, transaction count. */
  state: string;
  /** One JSON record per processed transaction, appended; the ledger behind getTransaction. */
  transactions: string;
}

export const localnetFiles = (dataDir: string): LocalnetFiles => {
  const dir = join(dataDir, 'localnet');
  return {
    dir,
    snapshot: join(dir, 'ledger.snapshot'),
    state: join(dir, 'state.json'),
    transactions: join(dir, 'transactions.jsonl'),
  };
};

interface StateFile {
  version: 1;
  chain: ChainState;
}

export interface Restored {
  svm: LiteSvm;
  chain: ChainState;
  records: TransactionRecord[];
}

async function readOptional(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

const ledgerCorrupt = (path: string, cause: unknown): WaiaasError =>
  new WaiaasError('LEDGER_CORRUPT', {
    message: `Localnet ledger at ${path} cannot be read; move the directory away to start a fresh local chain.`,
    details: { path },
    cause,
  });

/** The saved chain, or null on first start. Transactions beyond the saved state are discarded. */
export async function restore(files: LocalnetFiles, historyLimit: number): Promise<Restored | null> {
  const snapshot = await readOptional(files.snapshot);
  if (!snapshot) return null;
  let svm: LiteSvm;
  try {
    svm = LiteSvm.fromBytes(snapshot);
  } catch (error) {
    throw ledgerCorrupt(files.snapshot, error);
  }
  const stateText = await readOptional(files.state);
  let state: StateFile;
  try {
    state = stateText
      ? (JSON.parse(stateText.toString('utf8')) as StateFile)
      : { version: 1, chain: emptyState() };
  } catch (error) {
    throw ledgerCorrupt(files.state, error);
  }
  const lines = (await readOptional(files.transactions))?.toString('utf8').split('\n') ?? [];
  const records: TransactionRecord[] = [];
  let discarded = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    let record: TransactionRecord;
    try {
      record = recordFromLine(line);
    } catch {
      discarded++; // a line cut short by a crash mid-append
      continue;
    }
    // Appended ahead of a snapshot that never made it to disk: that transaction did not happen.
    if (record.seq > state.chain.transactionCount) discarded++;
    else records.push(record);
  }
  const kept = records.slice(-historyLimit);
  if (discarded > 0 || records.length > 2 * historyLimit) {
    await writeFileAtomic(files.transactions, kept.map((record) => `${recordToLine(record)}\n`).join(''));
  }
  return { svm, chain: state.chain, records: kept };
}

const LINES_PER_TURN = 200;

/** Serializes records a few hundred at a time, so a busy chain keeps answering while it saves. */
async function toLines(records: TransactionRecord[]): Promise<string> {
  const lines: string[] = [];
  for (let start = 0; start < records.length; start += LINES_PER_TURN) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const record of records.slice(start, start + LINES_PER_TURN))
      lines.push(`${recordToLine(record)}\n`);
  }
  return lines.join('');
}

export const emptyState = (genesisHash = ''): ChainState => ({
  genesisHash,
  clock: null,
  blockhashes: [],
  transactionCount: 0,
});

/**
 * Saves the chain shortly after it changes (at most every `delayMs`) and on close. Each save
 * captures the LiteSVM snapshot, our state and the new transaction records in one synchronous step,
 * appends the records first and writes the state last, so a crash never leaves a record of a
 * transaction whose effects are not in the snapshot.
 */
export class Persister {
  private timer: NodeJS.Timeout | null = null;
  private saving: Promise<void> | null = null;
  private dirty = false;
  private readonly detach: () => void;

  constructor(
    private readonly chain: LocalChain,
    private readonly files: LocalnetFiles,
    private readonly logger: Logger,
    private readonly delayMs = 500,
  ) {
    this.detach = chain.onChange(() => this.markDirty());
  }

  markDirty(): void {
    this.dirty = true;
    if (this.timer || this.saving) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.save().catch((error: unknown) =>
        this.logger.error({ err: error }, 'localnet snapshot failed'),
      );
    }, this.delayMs);
    this.timer.unref();
  }

  async save(): Promise<void> {
    while (this.saving) await this.saving.catch(() => undefined);
    if (!this.dirty) return;
    this.dirty = false;
    const records = this.chain.history.takeUnsaved();
    const snapshot = this.chain.svm.toBytes();
    const state: StateFile = { version: 1, chain: this.chain.state() };
    this.saving = (async () => {
      await mkdir(this.files.dir, { recursive: true });
      if (records.length > 0) await appendFile(this.files.transactions, await toLines(records));
      await writeFileAtomic(this.files.snapshot, snapshot);
      await writeFileAtomic(this.files.state, JSON.stringify(state));
    })();
    try {
      await this.saving;
    } catch (error) {
      this.dirty = true;
      this.chain.history.requeueUnsaved(records);
      throw error;
    } finally {
      this.saving = null;
    }
    if (this.dirty) this.markDirty();
  }

  async close(): Promise<void> {
    this.detach();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.save();
  }
}
