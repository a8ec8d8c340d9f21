/**
 * Amounts in UI units ("0.25" SOL) and base units (250000000n lamports), converted with exact decimal
 * string arithmetic: no floating point anywhere, so "0.1" + "0.2" style rounding cannot move money.
 */

export const SOL_DECIMALS = 9;
export const LAMPORTS_PER_SOL = 1_000_000_000n;
/** The largest amount an SPL or SOL transfer can carry (u64). */
export const U64_MAX = 18_446_744_073_709_551_615n;

/** A UI amount the SDK will not convert: why, and the text it was given. */
export class InvalidAmountError extends RangeError {
  override readonly name = 'InvalidAmountError';
  readonly code = 'INVALID_AMOUNT';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`Invalid amount "${input}": ${reason}.`);
  }
}

const checkDecimals = (decimals: number): void => {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 255) {
    throw new RangeError(`decimals must be an integer from 0 to 255, got ${decimals}`);
  }
};

const UI_AMOUNT = /^(\d*)(?:\.(\d*))?$/;

/**
 * "0.25" with 9 decimals → 250000000n. Accepts digits with at most one decimal point ("1", "0.5",
 * ".5", "1.50"); refuses signs, exponents, spaces, separators, and more significant decimals than
 * the asset has (trailing zeros past them are exact and allowed).
 */
export function parseUnits(value: string, decimals: number): bigint {
  checkDecimals(decimals);
  if (typeof value !== 'string') {
    throw new InvalidAmountError(String(value), 'pass the amount as a decimal string, not a number');
  }
  if (value.startsWith('-')) throw new InvalidAmountError(value, 'negative amounts are not allowed');
  const match = UI_AMOUNT.exec(value);
  const whole = match?.[1] ?? '';
  const fraction = match?.[2];
  if (!match || (whole === '' && (fraction === undefined || fraction === ''))) {
    const reason = /e/i.test(value)
      ? 'exponent notation is not allowed; write the digits out'
      : 'expected digits with at most one decimal point, such as "0.25"';
    throw new InvalidAmountError(value, reason);
  }
  if (fraction === '') throw new InvalidAmountError(value, 'a decimal point must be followed by digits');
  const fractionDigits = fraction ?? '';
  const significant = fractionDigits.replace(/0+$/, '');
  if (significant.length > decimals) {
    throw new InvalidAmountError(
      value,
      decimals === 0
        ? 'this asset has no decimals'
        : `this asset has ${decimals} decimal${decimals === 1 ? '' : 's'}; the smallest unit is 0.${'0'.repeat(decimals - 1)}1`,
    );
  }
  return BigInt((whole === '' ? '0' : whole) + significant.padEnd(decimals, '0'));
}

/** 250000000n with 9 decimals → "0.25": the shortest exact decimal, no trailing zeros or point. */
export function formatUnits(value: bigint, decimals: number): string {
  checkDecimals(decimals);
  if (typeof value !== 'bigint') throw new TypeError('formatUnits takes a bigint amount in base units');
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** "0.25" SOL → 250000000n lamports. */
export const sol = (value: string): bigint => parseUnits(value, SOL_DECIMALS);

/** 250000000n lamports → "0.25". */
export const formatSol = (lamports: bigint): string => formatUnits(lamports, SOL_DECIMALS);

/** A bigint amount for the wire; refuses what no transfer can carry before a request is made. */
export function amountToWire(amount: bigint, field = 'amount'): string {
  if (typeof amount !== 'bigint') {
    throw new InvalidAmountError(
      String(amount),
      `${field} must be a bigint in base units; use parseUnits("0.25", decimals) or sol("0.25")`,
    );
  }
  if (amount <= 0n) throw new InvalidAmountError(amount.toString(), `${field} must be positive`);
  if (amount > U64_MAX) throw new InvalidAmountError(amount.toString(), `${field} must fit in u64`);
  return amount.toString();
}
