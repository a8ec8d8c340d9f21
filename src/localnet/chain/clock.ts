/**
 * The local chain's time: unix time follows the wall clock (plus an offset that tests move forward),
 * slots advance every 400 ms of wall time. Both only ever move forward.
 */
export const SLOT_MS = 400;
export const SLOTS_PER_EPOCH = 432_000;

export interface ClockState {
  slot: number;
  unixTimestamp: number;
  offsetSeconds: number;
  /** Wall time (ms) when the state was taken, so slots keep counting while the localnet is down. */
  savedAtMs: number;
}

export interface ChainTime {
  slot: number;
  unixTimestamp: number;
}

export class ChainClock {
  private readonly startSlot: number;
  private readonly startMonotonicMs: number;
  private offsetSeconds: number;
  private extraSlots = 0;
  private lastSlot: number;
  private lastUnix: number;

  constructor(
    state: ClockState | null,
    private readonly wallMs: () => number = Date.now,
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {
    const now = wallMs();
    this.startMonotonicMs = monotonicMs();
    if (state) {
      const downtimeSlots = Math.max(0, Math.floor((now - state.savedAtMs) / SLOT_MS));
      this.startSlot = state.slot + downtimeSlots;
      this.offsetSeconds = state.offsetSeconds;
      this.lastUnix = state.unixTimestamp;
    } else {
      this.startSlot = 0;
      this.offsetSeconds = 0;
      this.lastUnix = 0;
    }
    this.lastSlot = this.startSlot;
  }

  now(): ChainTime {
    const slot =
      this.startSlot + this.extraSlots + Math.floor((this.monotonicMs() - this.startMonotonicMs) / SLOT_MS);
    if (slot > this.lastSlot) this.lastSlot = slot;
    const unix = Math.floor(this.wallMs() / 1000) + this.offsetSeconds;
    if (unix > this.lastUnix) this.lastUnix = unix;
    return { slot: this.lastSlot, unixTimestamp: this.lastUnix };
  }

  /** Moves unix time forward by `seconds` and the slot by the slots that many seconds hold. */
  advance(seconds: number): ChainTime {
    this.offsetSeconds += seconds;
    this.extraSlots += Math.ceil((seconds * 1000) / SLOT_MS);
    return this.now();
  }

  /** Unix time of an earlier slot, estimated from the slot rate (what getBlockTime answers). */
  unixTimestampOf(slot: number): number {
    const { slot: current, unixTimestamp } = this.now();
    return unixTimestamp - Math.max(0, Math.floor(((current - slot) * SLOT_MS) / 1000));
  }

  state(): ClockState {
    const { slot, unixTimestamp } = this.now();
    return { slot, unixTimestamp, offsetSeconds: this.offsetSeconds, savedAtMs: this.wallMs() };
  }
}

export const epochOf = (slot: number): number => Math.floor(slot / SLOTS_PER_EPOCH);
