/**
 * Whether 32 bytes decode to a point of the Ed25519 curve, as Solana decides for program derived
 * addresses (which must be off the curve, so no private key exists for them). Compressed form: y
 * little-endian in 255 bits, the top bit the sign of x; a point exists when (y² − 1) / (d·y² + 1) has a
 * square root modulo p = 2²⁵⁵ − 19 (RFC 8032 §5.1.3).
 */
const P = 2n ** 255n - 19n;
const D = (-121665n * modInverse(121666n)) % P;

function mod(value: bigint): bigint {
  const result = value % P;
  return result >= 0n ? result : result + P;
}

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let square = mod(base);
  let remaining = exponent;
  while (remaining > 0n) {
    if (remaining & 1n) result = (result * square) % P;
    square = (square * square) % P;
    remaining >>= 1n;
  }
  return result;
}

function modInverse(value: bigint): bigint {
  return modPow(value, P - 2n);
}

export const isOnCurve = (bytes: Uint8Array): boolean => {
  if (bytes.length !== 32) return false;
  let y = 0n;
  for (let index = 31; index >= 0; index--)
    y = (y << 8n) | BigInt(index === 31 ? bytes[index]! & 0x7f : bytes[index]!);
  y = mod(y);
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  // Candidate root x = u·v³·(u·v⁷)^((p−5)/8); it is a root of u/v when v·x² = ±u.
  const v3 = (v * v * v) % P;
  const v7 = (v3 * v3 * v) % P;
  // (−u case: x·√−1 is then the root, so a root exists either way.)
  const x = (((u * v3) % P) * modPow((u * v7) % P, (P - 5n) / 8n)) % P;
  const check = (v * x * x) % P;
  return check === u || check === mod(-u);
};
