/** The monitor's rules as pure functions: thresholds, windows, and what resets or does not count. */
import { describe, expect, it } from 'vitest';
import { refusalAlert, restartAlert, velocityAlert } from '../../src/daemon/monitor/rules.ts';

const config = {
  refusals: { count: 3, seconds: 60 },
  outsideHours: { count: 2, seconds: 600 },
  velocity: { percent: 50, seconds: 600 },
  enclaveRestarts: { count: 2, seconds: 300 },
};
const NOW = 1_000_000_000;
const at = (secondsAgo: number, code = 'POLICY_PER_TX_LIMIT') => ({ at: NOW - secondsAgo * 1000, code });

describe('monitor rules', () => {
  it('repeated refusals: the threshold inside the window fires; older ones and WALLET_FROZEN do not count', () => {
    expect(refusalAlert('w', [at(10), at(20), at(30)], 0, NOW, config)).toMatchObject({
      rule: 'repeated_refusals',
      details: { refusals: 3, codes: ['POLICY_PER_TX_LIMIT'] },
    });
    expect(refusalAlert('w', [at(10), at(20), at(61)], 0, NOW, config)).toBeUndefined();
    expect(refusalAlert('w', [at(10), at(20), at(30, 'WALLET_FROZEN')], 0, NOW, config)).toBeUndefined();
  });

  it('nothing before the last resume counts', () => {
    expect(refusalAlert('w', [at(10), at(20), at(30)], NOW - 25_000, NOW, config)).toBeUndefined();
    expect(restartAlert('w', [NOW - 10_000, NOW - 20_000], NOW - 15_000, NOW, config)).toBeUndefined();
    expect(restartAlert('w', [NOW - 10_000, NOW - 20_000], 0, NOW, config)).toMatchObject({
      rule: 'enclave_restarts',
      details: { restarts: 2 },
    });
  });

  it('outside hours has its own, lower threshold and longer window', () => {
    const refusals = [at(100, 'OUTSIDE_HOURS'), at(500, 'OUTSIDE_HOURS')];
    expect(refusalAlert('w', refusals, 0, NOW, config)).toMatchObject({ rule: 'outside_hours' });
    expect(refusalAlert('w', refusals.slice(0, 1), 0, NOW, config)).toBeUndefined();
  });

  it('velocity fires only above the percentage, per asset, and not when turned off', () => {
    const daily = new Map([['SOL', 1_000n]]);
    expect(velocityAlert('w', new Map([['SOL', 500n]]), daily, config)).toBeUndefined();
    expect(velocityAlert('w', new Map([['SOL', 501n]]), daily, config)).toMatchObject({
      rule: 'spending_velocity',
      details: { asset: 'SOL', spent: '501', daily: '1000' },
    });
    expect(velocityAlert('w', new Map([['MINT', 10_000n]]), daily, config)).toBeUndefined();
    expect(
      velocityAlert('w', new Map([['SOL', 999n]]), daily, { velocity: { percent: 0, seconds: 600 } }),
    ).toBeUndefined();
  });

  it('a count of 0 turns a rule off', () => {
    const off = {
      ...config,
      refusals: { count: 0, seconds: 60 },
      enclaveRestarts: { count: 0, seconds: 300 },
    };
    expect(refusalAlert('w', [at(1), at(2), at(3), at(4)], 0, NOW, off)).toBeUndefined();
    expect(restartAlert('w', [NOW, NOW, NOW], 0, NOW, off)).toBeUndefined();
  });
});
