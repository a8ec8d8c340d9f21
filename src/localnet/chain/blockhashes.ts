import { randomBytes } from 'node:crypto';
import bs58 from 'bs58';

/** A blockhash stays usable for this many slots after the slot it was issued in (Solana's MAX_PROCESSING_AGE). */
export const MAX_PROCESSING_AGE = 150;

export interface IssuedBlockhash {
  blockhash: string;
  /** The last block height (= slot here) at which a transaction using it may still be processed. */
  lastValidBlockHeight: number;
}

/**
 * The window of recent blockhashes: one new blockhash per slot in which someone asks for one (as a
 * validator produces one per block), each valid for 150 slots. LiteSVM only knows its latest
 * blockhash, so its own check is off and this window decides instead.
 */
export class BlockhashWindow {
  /** key: the blockhash bytes as a latin1 string (cheap to build from a wire transaction). */
  private readonly issued = new Map<string, { blockhash: string; slot: number }>();
  private latestKey: string | null = null;
  private latestSlot = -1;

  constructor(entries: ReadonlyArray<readonly [string, number]> = []) {
    for (const [blockhash, slot] of entries) this.add(blockhash, slot);
  }

  latest(slot: number): IssuedBlockhash {
    const current = this.latestKey === null ? undefined : this.issued.get(this.latestKey);
    if (current && this.latestSlot >= slot) {
      return { blockhash: current.blockhash, lastValidBlockHeight: current.slot + MAX_PROCESSING_AGE };
    }
    return this.issue(slot);
  }

  /** A blockhash no one has seen yet, valid from `slot` (used when a deterministic signature would repeat). */
  issue(slot: number): IssuedBlockhash {
    this.prune(slot);
    const blockhash = bs58.encode(randomBytes(32));
    this.add(blockhash, slot);
    return { blockhash, lastValidBlockHeight: slot + MAX_PROCESSING_AGE };
  }

  /** Last valid block height of a blockhash still in the window, else null. */
  lastValidBlockHeightOf(blockhashBytes: Uint8Array, slot: number): number | null {
    const entry = this.issued.get(latin1(blockhashBytes));
    if (!entry || slot > entry.slot + MAX_PROCESSING_AGE) return null;
    return entry.slot + MAX_PROCESSING_AGE;
  }

  isValid(blockhashBytes: Uint8Array, slot: number): boolean {
    return this.lastValidBlockHeightOf(blockhashBytes, slot) !== null;
  }

  entries(): Array<[string, number]> {
    return [...this.issued.values()].map(({ blockhash, slot }) => [blockhash, slot]);
  }

  private add(blockhash: string, slot: number): void {
    const key = latin1(bs58.decode(blockhash));
    this.issued.set(key, { blockhash, slot });
    if (slot >= this.latestSlot) {
      this.latestKey = key;
      this.latestSlot = slot;
    }
  }

  private prune(slot: number): void {
    for (const [key, entry] of this.issued) {
      if (entry.slot + MAX_PROCESSING_AGE >= slot) break;
      this.issued.delete(key);
    }
  }
}

const latin1 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
