const BIGINT_MARK = '__waiaas_u64__:';
const BIGINT_PATTERN = /"__waiaas_u64__:(-?\d+)"/g;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * JSON.stringify that writes bigints as exact JSON integers (as the validator does for u64), so
 * lamport amounts above 2^53 are not rounded on the server side.
 */
export function toJson(value: unknown): string {
  let hasLarge = false;
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'bigint') return item;
    if (item <= MAX_SAFE && item >= -MAX_SAFE) return Number(item);
    hasLarge = true;
    return `${BIGINT_MARK}${item}`;
  });
  return hasLarge ? text.replace(BIGINT_PATTERN, '$1') : text;
}
