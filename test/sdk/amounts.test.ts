import { describe, expect, it } from 'vitest';
import { amountToWire } from '../../src/sdk/amounts.ts';
import { amountsFromWire } from '../../src/sdk/codec.ts';
import {
  formatSol,
  formatUnits,
  InvalidAmountError,
  LAMPORTS_PER_SOL,
  parseUnits,
  policyToWire,
  sol,
  U64_MAX,
} from '../../src/sdk/index.ts';

describe('parseUnits: UI units to base units, exactly', () => {
  it.each([
    ['0.25', 9, 250_000_000n],
    ['1', 9, 1_000_000_000n],
    ['1.0', 9, 1_000_000_000n],
    ['0', 9, 0n],
    ['0.000000001', 9, 1n],
    ['.5', 9, 500_000_000n],
    ['007.5', 9, 7_500_000_000n],
    ['1.50', 6, 1_500_000n],
    ['0.1', 1, 1n],
    ['42', 0, 42n],
    ['42.000', 0, 42n],
    ['0.2500000000000', 9, 250_000_000n],
    ['18446744073.709551615', 9, U64_MAX],
    ['123456789012345678901234567890.123456789', 9, 123_456_789_012_345_678_901_234_567_890_123_456_789n],
    ['1', 255, 10n ** 255n],
  ])('%s with %i decimals → %s', (text, decimals, expected) => {
    expect(parseUnits(text, decimals)).toBe(expected);
  });

  it('is exact where floating point is not (0.1 + 0.2, 1.15 × 100)', () => {
    expect(parseUnits('0.1', 9) + parseUnits('0.2', 9)).toBe(parseUnits('0.3', 9));
    expect(parseUnits('1.15', 2)).toBe(115n);
    expect(parseUnits('0.000000003', 9) * 3n).toBe(9n);
    expect(parseUnits('9007199254740993', 0)).toBe(9_007_199_254_740_993n); // 2^53 + 1
  });

  it.each([
    ['0.1234567891', 9, /9 decimals; the smallest unit is 0.000000001/],
    ['0.0000000001', 9, /9 decimals/],
    ['1.5', 0, /no decimals/],
    ['0.01', 1, /1 decimal;/],
    ['-1', 9, /negative/],
    ['-0.5', 9, /negative/],
    ['1e9', 9, /exponent/],
    ['1E-3', 9, /exponent/],
    ['2.5e3', 9, /exponent/],
    ['', 9, /digits/],
    ['.', 9, /digits/],
    ['1.', 9, /followed by digits/],
    ['+1', 9, /digits/],
    [' 1', 9, /digits/],
    ['1 ', 9, /digits/],
    ['1,000', 9, /digits/],
    ['1_000', 9, /digits/],
    ['1.2.3', 9, /digits/],
    ['0x10', 9, /digits/],
    ['Infinity', 9, /digits/],
    ['NaN', 9, /digits/],
    ['１', 9, /digits/], // a full-width digit is not a digit here
    ['٣', 9, /digits/], // nor an Arabic-Indic one
  ])('refuses %j with %i decimals', (text, decimals, reason) => {
    const attempt = () => parseUnits(text, decimals);
    expect(attempt).toThrow(InvalidAmountError);
    expect(attempt).toThrow(reason);
  });

  it('refuses numbers (floats cannot carry money exactly) and says what to pass', () => {
    expect(() => parseUnits(0.25 as unknown as string, 9)).toThrow(/decimal string, not a number/);
    const error = (() => {
      try {
        parseUnits('1e3', 9);
      } catch (caught) {
        return caught as InvalidAmountError;
      }
    })();
    expect(error).toMatchObject({ code: 'INVALID_AMOUNT', input: '1e3' });
  });

  it.each([-1, 1.5, 256, Number.NaN])('refuses %s decimals', (decimals) => {
    expect(() => parseUnits('1', decimals)).toThrow(RangeError);
    expect(() => formatUnits(1n, decimals)).toThrow(RangeError);
  });
});

describe('formatUnits: base units to the shortest exact UI string', () => {
  it.each([
    [250_000_000n, 9, '0.25'],
    [1_000_000_000n, 9, '1'],
    [1n, 9, '0.000000001'],
    [0n, 9, '0'],
    [10n, 1, '1'],
    [15n, 1, '1.5'],
    [42n, 0, '42'],
    [1_500_000n, 6, '1.5'],
    [U64_MAX, 9, '18446744073.709551615'],
    [-250_000_000n, 9, '-0.25'],
    [-1n, 9, '-0.000000001'],
    [10n ** 255n, 255, '1'],
  ])('%s with %i decimals → %s', (value, decimals, expected) => {
    expect(formatUnits(value, decimals)).toBe(expected);
  });

  it('round-trips with parseUnits over many values and decimals', () => {
    const values = [0n, 1n, 9n, 10n, 99n, 100n, 101n, 123_456_789n, 10n ** 18n + 7n, U64_MAX];
    for (const decimals of [0, 1, 2, 6, 9, 18]) {
      for (const value of values) expect(parseUnits(formatUnits(value, decimals), decimals)).toBe(value);
    }
  });

  it('refuses a number', () => {
    expect(() => formatUnits(1 as unknown as bigint, 9)).toThrow(TypeError);
  });
});

describe('SOL helpers', () => {
  it('sol("0.25") is 250000000 lamports and formatSol is its inverse', () => {
    expect(sol('0.25')).toBe(250_000_000n);
    expect(sol('1')).toBe(LAMPORTS_PER_SOL);
    expect(formatSol(sol('0.000000001'))).toBe('0.000000001');
    expect(() => sol('0.0000000001')).toThrow(/9 decimals/);
  });
});

describe('amounts sent to the API', () => {
  it('are positive bigints that fit in u64', () => {
    expect(amountToWire(1n)).toBe('1');
    expect(amountToWire(U64_MAX)).toBe('18446744073709551615');
    expect(() => amountToWire(0n)).toThrow(/positive/);
    expect(() => amountToWire(-5n)).toThrow(/positive/);
    expect(() => amountToWire(U64_MAX + 1n)).toThrow(/u64/);
    expect(() => amountToWire(0.25 as unknown as bigint)).toThrow(/bigint in base units/);
    expect(() => amountToWire('100' as unknown as bigint)).toThrow(/bigint in base units/);
  });
});

describe('amounts on the wire', () => {
  it('a policy travels with base-unit strings, and only bigints are rewritten', () => {
    const wire = policyToWire({
      version: 2,
      assets: {
        SOL: {
          perTransaction: sol('1'),
          daily: sol('5'),
          tiers: {
            instantMax: sol('0.1'),
            notifyMax: '500000000' as unknown as bigint,
            delayMax: sol('1'),
            delaySeconds: 60,
          },
        },
      },
      recipients: { mode: 'any' },
      hours: { utc: [0, 24], days: [1] },
      rate: { maxPerHour: 10 },
      approvalTimeoutSeconds: 600,
    });
    expect(wire.assets.SOL).toEqual({
      perTransaction: '1000000000',
      daily: '5000000000',
      tiers: { instantMax: '100000000', notifyMax: '500000000', delayMax: '1000000000', delaySeconds: 60 },
    });
    expect(wire.version).toBe(2);
  });

  it('answers get bigint for every base-unit field, and nothing else changes', () => {
    const decoded = amountsFromWire<Record<string, unknown>>({
      amount: '18446744073709551615',
      sol: '5',
      id: '123',
      tokens: [{ amount: '7', decimals: 6, mint: '42' }],
      daily: null,
      withdraw: { amount: 'all' },
    });
    expect(decoded).toEqual({
      amount: U64_MAX,
      sol: 5n,
      id: '123',
      tokens: [{ amount: 7n, decimals: 6, mint: '42' }],
      daily: null,
      withdraw: { amount: 'all' },
    });
  });
});
