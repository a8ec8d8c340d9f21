/** A fresh idempotency key; `crypto.randomUUID` is in Node 20 and every browser, so no import. */
export const newIdempotencyKey = (): string => globalThis.crypto.randomUUID();
