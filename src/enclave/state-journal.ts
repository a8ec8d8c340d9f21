/**
 * The enclave's memory across restarts: policies in force, what it signed (for the daily and rate
 * windows) and when it first saw delay-tier requests. Records are appended synchronously before the
 * signature they account for leaves the enclave, so killing the process never forgets a spend.
 *
 * File layout (state dir, mode 0600): `state-key.sealed` holds a random 32-byte key sealed by the key
 * vault; `journal` is a sequence of frames [u32 BE length][u8 kind][body], each body a JSON array of
 * records. The host owns the disk: it can always delete or roll back the journal (nothing without a
 * trusted monotonic counter can stop that; the chain's own limit remains), so what matters is what a
 * forged record could do, and each record is protected accordingly:
 *   - signatures, spend and rate buckets can only add to counters, making the enclave stricter: a
 *     forged one costs availability, never a looser limit. They go in plain frames (kind 0), which
 *     keeps the signing path to one small write (a seal per signature would cost as much as the
 *     signature itself); retired agent keys likewise only take a key away, and halts only stop
 *     signing, so they are plain too;
 *   - delay first sightings could loosen the delay tier if backdated, so they only count from sealed
 *     frames (kind 1: 12-byte nonce, AES-256-GCM ciphertext, 16-byte tag under the state key);
 *   - policy records carry the owner's signature, checked again on replay.
 * A frame that fails authentication or parsing stops the start-up; a truncated last frame (killed
 * mid-write) is ignored. Writes reach the page cache (no fsync): they survive the process dying, not
 * the machine losing power.
 *
 * Group commit: while the server answers the requests of one read (`hold()` … `release()`), appends
 * collect in memory and go out in one write at `release()`, before any of those answers is sent; so a
 * signature still never leaves before its record is in the journal. A plain record on its own (the
 * signing path) is encoded into a buffer kept for the purpose, with no allocation but its JSON.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { WaiaasError } from '../core/errors.ts';
import type { PolicyBundle } from '../core/policy.ts';
import type { EnclaveVault } from './agent-keys.ts';

export type StateRecord =
  | { readonly t: 'policy'; readonly w: string; readonly bundle: PolicyBundle }
  /** A signature: +1 in the rate window, and `amount` of `asset` in the daily window when it consumes it. */
  | {
      readonly t: 'sign';
      readonly w: string;
      readonly at: number;
      readonly asset?: string;
      readonly amount?: string;
    }
  | {
      readonly t: 'spend';
      readonly w: string;
      readonly asset: string;
      readonly at: number;
      readonly amount: string;
    }
  | { readonly t: 'rate'; readonly w: string; readonly at: number; readonly n: string }
  /** Spends of `asset` since `since` count from `at` on: an owner act carried them into a new chain period. */
  | {
      readonly t: 'hold';
      readonly w: string;
      readonly asset: string;
      readonly since: number;
      readonly at: number;
    }
  /** An agent key the owner rotated out: never loaded or used for the wallet again. */
  | { readonly t: 'retire'; readonly w: string; readonly key: string }
  /** Signing halted at policy `v`: only a policy above it resumes (a forged one only stops signing). */
  | { readonly t: 'halt'; readonly w: string; readonly v: number; readonly at: number }
  | {
      readonly t: 'delay';
      readonly w: string;
      readonly id: string;
      readonly firstSeenMs: number;
      readonly asset: string;
      readonly amount: string;
      readonly destination: string;
    };

export interface StateStore {
  load(): StateRecord[];
  /**
   * Returns once the records would survive this process being killed, or, while held, once they are
   * queued for the write that `release()` makes.
   */
  append(records: readonly StateRecord[]): void;
  /** Queues appends until `release()` (nested holds count). */
  hold(): void;
  /** Writes what was queued since the first `hold()`; throws when that write fails. */
  release(): void;
  /** Replaces everything with a compact equivalent. */
  rewrite(records: readonly StateRecord[]): void;
  readonly recordsSinceRewrite: number;
  close(): void;
}

/** Keeps records in memory only: for tests and for an enclave run without a state dir. */
export class MemoryStateStore implements StateStore {
  records: StateRecord[] = [];
  recordsSinceRewrite = 0;
  load(): StateRecord[] {
    return [...this.records];
  }
  append(records: readonly StateRecord[]): void {
    this.records.push(...records);
    this.recordsSinceRewrite += records.length;
  }
  hold(): void {}
  release(): void {}
  rewrite(records: readonly StateRecord[]): void {
    this.records = [...records];
    this.recordsSinceRewrite = 0;
  }
  close(): void {}
}

const STATE_KEY_FILE = 'state-key.sealed';
const JOURNAL_FILE = 'journal';
const STATE_KEY_CONTEXT = { purpose: 'enclave-state-key' } as const;
const AAD = Buffer.from('waiaas-enclave-journal-v1');
const FRAME_PLAIN = 0;
const FRAME_SEALED = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const FRAME_HEADER_BYTES = 5;
/** Room for the signing path's records; bigger appends allocate. */
const SCRATCH_BYTES = 4096;

/** writeSync may write less than asked (a full disk, a signal); the rest follows or it throws. */
const writeAll = (fd: number, bytes: Buffer, length = bytes.length) => {
  let offset = 0;
  while (offset < length) offset += writeSync(fd, bytes, offset, length - offset);
};

const corrupt = (reason: string) =>
  new WaiaasError('VAULT_CORRUPT', { details: { reason, file: JOURNAL_FILE } });

/** Records that could make the enclave looser if forged; only these need sealing (see the file comment). */
const mustBeSealed = (record: StateRecord) => record.t === 'delay';

const amountText = z.string().regex(/^[0-9]{1,20}$/);
const unixSeconds = z.number().int().min(0).max(1e11);
const recordSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('policy'), w: z.string(), bundle: z.any() }),
  z.object({
    t: z.literal('sign'),
    w: z.string(),
    at: unixSeconds,
    asset: z.string().optional(),
    amount: amountText.optional(),
  }),
  z.object({ t: z.literal('spend'), w: z.string(), asset: z.string(), at: unixSeconds, amount: amountText }),
  z.object({ t: z.literal('rate'), w: z.string(), at: unixSeconds, n: amountText }),
  z.object({ t: z.literal('hold'), w: z.string(), asset: z.string(), since: unixSeconds, at: unixSeconds }),
  z.object({ t: z.literal('retire'), w: z.string(), key: z.string() }),
  z.object({ t: z.literal('halt'), w: z.string(), v: z.number().int().min(0), at: z.number().int().min(0) }),
  z.object({
    t: z.literal('delay'),
    w: z.string(),
    id: z.string(),
    firstSeenMs: z.number().int().min(0),
    asset: z.string(),
    amount: amountText,
    destination: z.string(),
  }),
]);

const parseRecords = (text: string, sealed: boolean): StateRecord[] => {
  let records: unknown;
  try {
    records = JSON.parse(text);
  } catch {
    throw corrupt('a journal frame is not JSON');
  }
  const parsed = z.array(recordSchema).safeParse(records);
  if (!parsed.success) throw corrupt('a journal record is malformed');
  const list = parsed.data as StateRecord[];
  if (!sealed && list.some(mustBeSealed)) throw corrupt('a delay record outside a sealed frame');
  return list;
};

export class FileStateStore implements StateStore {
  readonly #dir: string;
  readonly #key: Buffer;
  /** Nonces: 8 random bytes per process and a counter, so no two frames under this key share one. */
  readonly #noncePrefix = randomBytes(8);
  #nonceCounter = 0;
  #fd: number;
  /** Where small plain appends are encoded, and held ones collect. */
  #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  #held = 0;
  #queued = 0;
  /** Held appends that did not fit the scratch buffer, after its `#queued` bytes. */
  #overflow: Buffer[] = [];
  recordsSinceRewrite = 0;

  private constructor(dir: string, key: Buffer) {
    this.#dir = dir;
    this.#key = key;
    this.#fd = openSync(join(dir, JOURNAL_FILE), 'a', 0o600);
  }

  /**
   * Opens the store in `dir`, creating its sealed key on first use. With `legacyVault`, a state key
   * sealed by it (the vault the daemon used to hold) is opened with it and sealed again by `vault`.
   */
  static async open(
    dir: string,
    vault: EnclaveVault,
    options: { legacyVault?: EnclaveVault } = {},
  ): Promise<FileStateStore> {
    const keyPath = join(dir, STATE_KEY_FILE);
    let key: Buffer;
    if (existsSync(keyPath)) {
      const sealed = readFileSync(keyPath);
      try {
        key = Buffer.from(await vault.unseal(sealed, STATE_KEY_CONTEXT));
      } catch (error) {
        if (options.legacyVault === undefined) throw error;
        key = Buffer.from(await options.legacyVault.unseal(sealed, STATE_KEY_CONTEXT));
        const temporary = `${keyPath}.tmp`;
        writeFileSync(temporary, await vault.seal(key, STATE_KEY_CONTEXT), { mode: 0o600 });
        renameSync(temporary, keyPath);
      }
    } else {
      key = randomBytes(32);
      writeFileSync(keyPath, await vault.seal(key, STATE_KEY_CONTEXT), { mode: 0o600, flag: 'wx' });
    }
    return new FileStateStore(dir, key);
  }

  #frame(kind: number, body: Buffer): Buffer {
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame.writeUInt32BE(1 + body.length, 0);
    frame[4] = kind;
    body.copy(frame, 5);
    return frame;
  }

  #sealed(records: readonly StateRecord[]): Buffer {
    if (this.#nonceCounter >= 0xffffffff) throw corrupt('nonce space exhausted; restart the enclave');
    const iv = Buffer.allocUnsafe(IV_BYTES);
    this.#noncePrefix.copy(iv, 0);
    iv.writeUInt32BE(this.#nonceCounter++, 8);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([
      iv,
      cipher.update(JSON.stringify(records), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return this.#frame(FRAME_SEALED, body);
  }

  #encode(records: readonly StateRecord[]): Buffer {
    const sealed = records.filter(mustBeSealed);
    const plain = sealed.length === 0 ? records : records.filter((record) => !mustBeSealed(record));
    const frames: Buffer[] = [];
    if (plain.length > 0) frames.push(this.#frame(FRAME_PLAIN, Buffer.from(JSON.stringify(plain), 'utf8')));
    if (sealed.length > 0) frames.push(this.#sealed(sealed));
    return frames.length === 1 ? frames[0]! : Buffer.concat(frames);
  }

  load(): StateRecord[] {
    const bytes = readFileSync(join(this.#dir, JOURNAL_FILE));
    const records: StateRecord[] = [];
    let offset = 0;
    while (offset + 4 <= bytes.length) {
      const length = bytes.readUInt32BE(offset);
      if (length < 1 || length > MAX_FRAME_BYTES) throw corrupt('frame length');
      if (offset + 4 + length > bytes.length) break; // torn last write
      const kind = bytes[offset + 4];
      const body = bytes.subarray(offset + 5, offset + 4 + length);
      if (kind === FRAME_PLAIN) {
        records.push(...parseRecords(body.toString('utf8'), false));
      } else if (kind === FRAME_SEALED) {
        if (body.length < IV_BYTES + TAG_BYTES) throw corrupt('sealed frame too short');
        const decipher = createDecipheriv('aes-256-gcm', this.#key, body.subarray(0, IV_BYTES));
        decipher.setAAD(AAD);
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        let text: string;
        try {
          text = Buffer.concat([
            decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
            decipher.final(),
          ]).toString();
        } catch {
          throw corrupt('a sealed journal frame failed authentication');
        }
        records.push(...parseRecords(text, true));
      } else {
        throw corrupt('unknown frame kind');
      }
      offset += 4 + length;
    }
    return records;
  }

  /** Encodes one plain frame into the scratch buffer at `offset`; false when it does not fit. */
  #encodePlainInto(records: readonly StateRecord[], offset: number): number | undefined {
    const text = JSON.stringify(records);
    const start = offset + FRAME_HEADER_BYTES;
    // Every character is at most 3 UTF-8 bytes; only then is the write sure to fit.
    if (start + text.length * 3 > this.#scratch.length) return undefined;
    const length = this.#scratch.write(text, start, 'utf8');
    this.#scratch.writeUInt32BE(1 + length, offset);
    this.#scratch[offset + 4] = FRAME_PLAIN;
    return FRAME_HEADER_BYTES + length;
  }

  append(records: readonly StateRecord[]): void {
    if (records.length === 0) return;
    const plain = !records.some(mustBeSealed);
    if (this.#held > 0) {
      const written =
        plain && this.#overflow.length === 0 ? this.#encodePlainInto(records, this.#queued) : undefined;
      if (written === undefined) this.#overflow.push(this.#encode(records));
      else this.#queued += written;
    } else {
      const written = plain ? this.#encodePlainInto(records, 0) : undefined;
      if (written === undefined) writeAll(this.#fd, this.#encode(records));
      else writeAll(this.#fd, this.#scratch, written);
    }
    this.recordsSinceRewrite += records.length;
  }

  hold(): void {
    this.#held++;
  }

  release(): void {
    if (this.#held === 0) return;
    this.#held--;
    if (this.#held === 0) this.#flush();
  }

  #flush(): void {
    const queued = this.#queued;
    const overflow = this.#overflow;
    this.#queued = 0;
    this.#overflow = [];
    if (queued > 0) writeAll(this.#fd, this.#scratch, queued);
    for (const frames of overflow) writeAll(this.#fd, frames);
  }

  rewrite(records: readonly StateRecord[]): void {
    // What was queued counts in the snapshot too, but goes first to the file being replaced, so that a
    // crash before the rename still finds it.
    this.#flush();
    const temporary = join(this.#dir, `${JOURNAL_FILE}.tmp`);
    writeFileSync(temporary, records.length > 0 ? this.#encode(records) : Buffer.alloc(0), { mode: 0o600 });
    renameSync(temporary, join(this.#dir, JOURNAL_FILE));
    closeSync(this.#fd);
    this.#fd = openSync(join(this.#dir, JOURNAL_FILE), 'a', 0o600);
    this.recordsSinceRewrite = 0;
  }

  close(): void {
    this.#flush();
    closeSync(this.#fd);
    this.#key.fill(0);
  }
}
