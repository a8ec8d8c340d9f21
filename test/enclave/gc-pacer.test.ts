/**
 * When the enclave process collects garbage on purpose: after bursts of rare ops and when idle, never
 * from inside a request, and not at all without --expose-gc.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGcPacer } from '../../src/enclave/gc-pacer.ts';

describe('the GC pacer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('collects once the process has been idle after a rare op', () => {
    const collect = vi.fn();
    const pacer = createGcPacer({ collect, idleMs: 250 });
    pacer.noteRequest(true);
    vi.advanceTimersByTime(100);
    pacer.noteRequest(false); // still busy: the idle period starts again
    vi.advanceTimersByTime(200);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(collect).toHaveBeenCalledTimes(1); // nothing new happened
    pacer.stop();
  });

  it('leaves a stream of signatures to V8 until many went by', () => {
    const collect = vi.fn();
    const pacer = createGcPacer({ collect, idleMs: 250, signaturesPerCollection: 1_000 });
    for (let index = 0; index < 999; index++) pacer.noteRequest(false);
    vi.advanceTimersByTime(1_000);
    expect(collect).not.toHaveBeenCalled();
    pacer.noteRequest(false);
    vi.advanceTimersByTime(1_000);
    expect(collect).toHaveBeenCalledTimes(1);
    pacer.stop();
  });

  it('collects during a long burst of rare ops, between requests', () => {
    const collect = vi.fn();
    const pacer = createGcPacer({ collect, idleMs: 250, opsPerCollection: 100 });
    for (let index = 0; index < 250; index++) {
      const before = collect.mock.calls.length;
      pacer.noteRequest(true);
      expect(collect.mock.calls.length).toBe(before); // never inside the request that crossed the line
      if (index % 10 === 9) vi.advanceTimersByTime(1); // requests keep coming: never idle
    }
    expect(collect).toHaveBeenCalledTimes(2); // at the 100th and the 200th
    vi.runOnlyPendingTimers();
    expect(collect.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(pacer.collections).toBe(collect.mock.calls.length);
    pacer.stop();
  });

  it('does nothing without a collector (node started without --expose-gc)', () => {
    const pacer = createGcPacer({ collect: undefined });
    for (let index = 0; index < 10_000; index++) pacer.noteRequest(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(pacer.collections).toBe(0);
  });
});
