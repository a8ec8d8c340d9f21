/**
 * argon2id run in a short-lived child process (the enclave's choice: all of its memory goes back when
 * the process exits) derives exactly what the worker thread derives, and fails cleanly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { derivePassphraseKey, setArgon2Isolation } from '../../src/keys/kdf.ts';
import { argon2idInChildProcess } from '../../src/keys/kdf-process.ts';
import { argon2idOffThread } from '../../src/keys/kdf-worker.ts';

const salt = new Uint8Array(16).map((_, index) => index * 7);
const params = { name: 'argon2id', memoryKiB: 4_096, iterations: 2, parallelism: 1 } as const;

describe('argon2id isolation', () => {
  afterEach(() => setArgon2Isolation('worker-thread'));

  it('derives the same key in a child process as in the worker thread', async () => {
    const job = {
      password: new TextEncoder().encode('correct horse battery staple'),
      salt,
      memoryKiB: params.memoryKiB,
      iterations: params.iterations,
      parallelism: params.parallelism,
      length: 32,
    };
    const [inProcess, inThread] = await Promise.all([argon2idInChildProcess(job), argon2idOffThread(job)]);
    expect(inProcess).toHaveLength(32);
    expect(Buffer.from(inProcess).equals(Buffer.from(inThread))).toBe(true);
  });

  it('is what derivePassphraseKey uses once the process asks for it', async () => {
    const viaThread = await derivePassphraseKey('pässphrase', salt, params, 32);
    setArgon2Isolation('child-process');
    const viaProcess = await derivePassphraseKey('pässphrase', salt, params, 32);
    expect(Buffer.from(viaProcess).equals(Buffer.from(viaThread))).toBe(true);
    const otherPassphrase = await derivePassphraseKey('passphrase', salt, params, 32);
    expect(Buffer.from(otherPassphrase).equals(Buffer.from(viaThread))).toBe(false);
  });

  it('rejects parameters argon2 refuses, without leaking the password into the error', async () => {
    const failure = await argon2idInChildProcess({
      password: new TextEncoder().encode('secret words'),
      salt,
      memoryKiB: 1,
      iterations: 1,
      parallelism: 1,
      length: 32,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^argon2id process failed/);
    expect((failure as Error).message).not.toContain('secret words');
  });
});
