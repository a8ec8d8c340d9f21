/**
 * Owner-key signing speed: latency (p50/p99) and throughput for the `local` backend (key unlocked in
 * memory, and the full per-act unlock with argon2id at the production cost) and for `aws-kms` over
 * loopback against the KMS stand-in, next to bare node:crypto Ed25519 signing measured in the same run.
 *
 *   node --import tsx bench/owner-sign.ts
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { AwsKmsOwnerKeyConfig } from '../src/keys/aws/kms-owner-key.ts';
import { createOwnerSigner, provisionOwnerKey } from '../src/keys/owner-signer.ts';
import { startTestKms } from '../test/support/kms-server.ts';
import { startTestSts } from '../test/support/sts-server.ts';

interface Result {
  name: string;
  count: number;
  p50: number;
  p99: number;
  perSecond: number;
}

const message = new Uint8Array(320).map((_, index) => index & 0xff);
const credentials = { accessKeyId: 'AKIABENCHDAEMON00001', secretAccessKey: 'bench-secret-not-real' };

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** Sequential calls: per-call latency and the throughput of one caller. */
const sequential = async (name: string, count: number, run: () => unknown): Promise<Result> => {
  for (let index = 0; index < Math.min(50, count); index++) await run();
  const samples: number[] = [];
  const started = performance.now();
  for (let index = 0; index < count; index++) {
    const begin = performance.now();
    await run();
    samples.push(performance.now() - begin);
  }
  const elapsed = performance.now() - started;
  samples.sort((a, b) => a - b);
  return {
    name,
    count,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    perSecond: (count / elapsed) * 1000,
  };
};

/** `concurrency` callers in flight at once: throughput only (latency is the sequential figure). */
const concurrent = async (name: string, count: number, concurrency: number, run: () => Promise<unknown>) => {
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        const begin = performance.now();
        await run();
        samples.push(performance.now() - begin);
      }
    }),
  );
  const elapsed = performance.now() - started;
  samples.sort((a, b) => a - b);
  return {
    name,
    count,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    perSecond: (count / elapsed) * 1000,
  };
};

const print = (results: Result[], baseline: Result) => {
  const format = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
  console.log(
    [
      'case'.padEnd(58),
      'n'.padStart(6),
      'p50'.padStart(11),
      'p99'.padStart(11),
      'ops/s'.padStart(10),
      '× bare p50'.padStart(11),
    ].join(' '),
  );
  for (const result of results) {
    console.log(
      [
        result.name.padEnd(58),
        String(result.count).padStart(6),
        format(result.p50).padStart(11),
        format(result.p99).padStart(11),
        result.perSecond.toFixed(0).padStart(10),
        (result.p50 / baseline.p50).toFixed(1).padStart(11),
      ].join(' '),
    );
  }
};

const main = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'waiaas-bench-owner-'));
  const kms = await startTestKms();
  const sts = await startTestSts();
  const results: Result[] = [];
  try {
    const bare = generateKeyPairSync('ed25519').privateKey;
    const baseline = await sequential('bare node:crypto Ed25519 sign', 20_000, () =>
      sign(null, message, bare),
    );
    results.push(baseline);
    const bareVerifier = createPublicKey(bare);
    results.push(
      await sequential('bare node:crypto Ed25519 sign + verify', 20_000, () =>
        verify(null, message, bareVerifier, sign(null, message, bare)),
      ),
    );

    const passphrase = 'bench passphrase 1';
    const local = await provisionOwnerKey({
      kind: 'local',
      keystorePath: join(dir, 'owner.json'),
      passphrase,
    });
    const localKey = createOwnerSigner(local.config);
    await localKey.unlockFor(3600, passphrase);
    results.push(
      await sequential('local, unlocked in memory (sign + verify)', 20_000, () => localKey.sign(message)),
    );
    const lockedKey = createOwnerSigner(local.config);
    results.push(
      await sequential('local, full unlock per act (argon2id 64 MiB, t=3)', 10, () =>
        lockedKey.sign(message, passphrase),
      ),
    );

    const sdk = new KMSClient({ region: kms.region, endpoint: kms.endpoint, credentials });
    const remote = await provisionOwnerKey(
      { kind: 'aws-kms', region: kms.region, endpoint: kms.endpoint },
      { credentials },
    );
    const keyId = (remote.config as AwsKmsOwnerKeyConfig).keyId;
    const sendSign = () =>
      sdk.send(
        new SignCommand({
          KeyId: keyId,
          Message: message,
          MessageType: 'RAW',
          SigningAlgorithm: 'ED25519_SHA_512',
        }),
      );
    results.push(await sequential('aws-kms loopback: bare SDK SignCommand', 2_000, sendSign));
    const remoteKey = createOwnerSigner(remote.config, { credentials });
    results.push(
      await sequential('aws-kms loopback: OwnerKey.sign (no MFA)', 2_000, () => remoteKey.sign(message)),
    );
    results.push(
      await concurrent('aws-kms loopback: OwnerKey.sign, 16 in flight', 4_000, 16, () =>
        remoteKey.sign(message),
      ),
    );

    const serial = 'arn:aws:iam::111122223333:mfa/bench';
    const withMfa = await provisionOwnerKey(
      {
        kind: 'aws-kms',
        region: kms.region,
        endpoint: kms.endpoint,
        mfaSerial: serial,
        stsEndpoint: sts.endpoint,
      },
      { credentials },
    );
    const mfaKey = createOwnerSigner(withMfa.config, { credentials });
    let code = 100_000;
    results.push(
      await sequential('aws-kms loopback: MFA per act (STS + Sign)', 200, () => {
        code += 1;
        sts.setMfaCode(serial, String(code));
        return mfaKey.sign(message, String(code));
      }),
    );

    console.log(`owner-key signing, ${message.length}-byte message, node ${process.version}\n`);
    print(results, baseline);
    sdk.destroy();
    await Promise.all([localKey.close(), lockedKey.close(), remoteKey.close(), mfaKey.close()]);
  } finally {
    await Promise.all([kms.close(), sts.close(), rm(dir, { recursive: true, force: true })]);
  }
};

await main();
