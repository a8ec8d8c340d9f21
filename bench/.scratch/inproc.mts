import { generateKeyPairSync, sign } from 'node:crypto';
import { writeHeapSnapshot } from 'node:v8';
import { Keypair, PublicKey } from '@solana/web3.js';
import { type PolicyDocument, signPolicyBundle } from '/work/main/src/core/policy.ts';
import { AgentEnclave } from '/work/main/src/enclave/enclave.ts';
import { openLocalVault, provisionLocalVault } from '/work/main/src/keys/vault/local-vault.ts';
const gc = (globalThis as any).gc as () => void;
const mu = (label: string) => { gc(); gc(); const m = process.memoryUsage(); console.log(label, 'rss', (m.rss/1048576).toFixed(1), 'heapUsed', (m.heapUsed/1048576).toFixed(2), 'ext', (m.external/1048576).toFixed(2)); };
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const raw = new PublicKey(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)).toBase58();
const signer = { publicKey: async () => raw, sign: async (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)) };
const big = '1000000000000000';
const policy: PolicyDocument = { version: 1, assets: { SOL: { perTransaction: big, daily: big, tiers: { instantMax: big, notifyMax: big, delayMax: big, delaySeconds: 0 } } }, recipients: { mode: 'any' }, hours: { utc: [0, 24], days: [0,1,2,3,4,5,6] }, rate: { maxPerHour: 1_000_000 }, approvalTimeoutSeconds: 3600 };
const cfg = await provisionLocalVault({ keystorePath: `/tmp/eb/v-${process.pid}.ks`, passphrase: 'password1' }, { insecureKdfForTests: true });
const vault = await openLocalVault(cfg, 'password1');
const enclave = AgentEnclave.create({ vault });
const bundles = [];
const ms = [];
for (let i = 0; i < 1000; i++) { ms.push(Keypair.generate().publicKey.toBase58()); bundles.push(await signPolicyBundle(`w-${i}`, policy, signer)); }
mu('before');
if (process.argv[2]) writeHeapSnapshot(process.argv[2] + '.before');
for (let i = 0; i < 1000; i++) { await enclave.createAgentKey(`w-${i}`, raw, ms[i]!); }
mu('keys');
for (let i = 0; i < 1000; i++) enclave.setPolicy(bundles[i]);
bundles.length = 0;
mu('policies');
if (process.argv[2]) writeHeapSnapshot(process.argv[2]);
