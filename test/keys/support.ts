import { verify } from 'node:crypto';
import { expect } from 'vitest';
import { type Address, addressToBytes } from '../../src/core/address.ts';
import { isWaiaasError } from '../../src/core/errors.ts';
import { publicKeyObject } from '../../src/keys/ed25519.ts';

/** Static test credentials the SDK signs with; the stand-ins read only the access key id. */
export const BASE_CREDENTIALS = {
  accessKeyId: 'AKIATESTDAEMON000001',
  secretAccessKey: 'test-secret-not-real',
};

export const caught = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/** Awaits a rejection and checks its catalogue code; returns the error for further checks. */
export const expectCode = async (promise: Promise<unknown>, code: string) => {
  const error = await caught(promise);
  expect(isWaiaasError(error) ? error.code : error).toBe(code);
  return error as Error & { code: string; details: Record<string, unknown> };
};

export const verifies = (publicKey: Address, message: Uint8Array, signature: Uint8Array): boolean =>
  verify(null, message, publicKeyObject(addressToBytes(publicKey)), signature);

/** A clock tests move by hand. */
export const manualClock = (start = Date.now()) => {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
};
