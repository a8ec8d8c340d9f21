import { describe, expect, it } from 'vitest';
import { addressFromBytes, addressToBytes, isAddress, parseAddress } from '../../src/core/address.ts';
import { isWaiaasError } from '../../src/core/errors.ts';

describe('addresses', () => {
  it('round-trips 32 bytes through base58 and refuses anything else with INVALID_ADDRESS', () => {
    const bytes = new Uint8Array(32).map((_, index) => index + 1);
    const address = addressFromBytes(bytes);
    expect(parseAddress(address)).toBe(address);
    expect(addressToBytes(address)).toEqual(bytes);
    expect(parseAddress('11111111111111111111111111111111')).toBe('11111111111111111111111111111111');
    for (const bad of ['', 'not-base58-0OIl', '1111', `${address}${address}`, '1'.repeat(45)]) {
      expect(isAddress(bad)).toBe(false);
      expect(() => parseAddress(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ADDRESS' }));
    }
    let error: unknown;
    try {
      addressFromBytes(new Uint8Array(31));
    } catch (caught) {
      error = caught;
    }
    expect(isWaiaasError(error, 'INVALID_ADDRESS')).toBe(true);
  });
});
