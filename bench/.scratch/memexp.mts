import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair, PublicKey } from '@solana/web3.js';
import { type PolicyDocument, signPolicyBundle } from '../../src/core/policy.ts';
import { EnclaveSupervisor } from '../../src/daemon/enclave-supervisor.ts';
import { ensureEnclaveBundle, defaultBundleCacheDir } from '../../src/enclave/process-bundle.ts';
import { provisionLocalVault } from '../../src/keys/vault/local-vault.ts';
const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const raw = new PublicKey(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)).toBase58();
const signer = { publicKey: async () => raw, sign: async (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)) };
const big = '1000000000000000';
const policy: PolicyDocument = { version: 1, assets: { SOL: { perTransaction: big, daily: big, tiers: { instantMax: big, notifyMax: big, delayMax: big, delaySeconds: 0 } } }, recipients: { mode: 'any' }, hours: { utc: [0, 24], days: [0,1,2,3,4,5,6] }, rate: { maxPerHour: 1_000_000 }, approvalTimeoutSeconds: 3600 };
const dir = mkdtempSync(join(tmpdir(), 'memexp-'));
const flags = (process.argv[2] ?? '').split(' ').filter(Boolean);
const kdf = process.argv[3] === 'default' ? {} : { insecureKdfForTests: true };
await provisionLocalVault({ keystorePath: join(dir, 'v.ks'), passphrase: 'password1' }, kdf);
const bundle = await ensureEnclaveBundle({ cacheDir: defaultBundleCacheDir() });
const sup = new EnclaveSupervisor({ socketPath: join(dir, 's.sock'), stateDir: join(dir, 'st'), vaultKeystore: join(dir, 'v.ks'), vaultPassphrase: 'password1', attestation: 'dev', sealedKeys: async () => [], command: [process.execPath, ...flags, bundle.path], log: (l) => console.error(l) });
await sup.start();
const pid = sup.status().pid!;
await sleep(500);
const out: string[] = [`start ${rssMb(pid).toFixed(1)}`];
import { execSync } from 'node:child_process';
if (process.env.SMAPS) console.log(execSync(`python3 /tmp/eb/smaps.py ${pid}`).toString());
const c = sup.client;
if (process.env.SIGNS) {
  const { signN } = await import('./signer.mts');
  await signN(c, raw, signer, Number(process.env.SIGNS));
  out.push(`signed ${rssMb(pid).toFixed(1)}`);
  if (process.env.SMAPS) console.log(execSync(`python3 /tmp/eb/smaps.py ${pid}`).toString());
}
for (let i = 0; i < 1000; i += 50) {
  await Promise.all(Array.from({ length: 50 }, async (_, o) => {
    const id = `m-${i + o}`;
    await c.createAgentKey(id, raw, Keypair.generate().publicKey.toBase58());
    await c.setPolicy(await signPolicyBundle(id, policy, signer));
  }));
}
out.push(`1000w ${rssMb(pid).toFixed(1)}`);
await sleep(1000);
out.push(`1000w+1s ${rssMb(pid).toFixed(1)}`);
if (process.env.SMAPS) console.log(execSync(`python3 /tmp/eb/smaps.py ${pid}`).toString());
if (process.env.GCSIG) { process.kill(pid, 'SIGUSR2'); await sleep(500); out.push(`gc ${rssMb(pid).toFixed(1)}`); }
if (process.env.IDLE) { await sleep(Number(process.env.IDLE)); out.push(`idle ${rssMb(pid).toFixed(1)}`); }
await sup.stop();
console.log(flags.join(' ') || '(none)', process.env.MALLOC_ARENA_MAX ?? '', out.join('  '));
