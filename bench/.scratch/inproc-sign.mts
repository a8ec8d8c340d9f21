import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { type PolicyDocument, signPolicyBundle } from '../../src/core/policy.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import { FileStateStore } from '../../src/enclave/state-journal.ts';
import { openLocalVault, provisionLocalVault } from '../../src/keys/vault/local-vault.ts';
import { spendingLimitAddress } from '../../src/solana/inspect/pda.ts';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const raw = new PublicKey(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)).toBase58();
const signer = { publicKey: async () => raw, sign: async (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)) };
const big = '1000000000000000';
const policy: PolicyDocument = { version: 1, assets: { SOL: { perTransaction: big, daily: big, tiers: { instantMax: big, notifyMax: big, delayMax: big, delaySeconds: 0 } } }, recipients: { mode: 'any' }, hours: { utc: [0, 24], days: [0,1,2,3,4,5,6] }, rate: { maxPerHour: 1_000_000 }, approvalTimeoutSeconds: 3600 };
const dir = mkdtempSync(join(tmpdir(), 'inps-'));
const cfg = await provisionLocalVault({ keystorePath: join(dir, 'v.ks'), passphrase: 'password1' }, { insecureKdfForTests: true });
const vault = await openLocalVault(cfg, 'password1');
const store = await FileStateStore.open(dir, vault);
const enclave = AgentEnclave.create({ vault, store });
const ms = Keypair.generate().publicKey;
const sealed = await enclave.createAgentKey('w', raw, ms.toBase58());
enclave.setPolicy(await signPolicyBundle('w', policy, signer));
const agent = new PublicKey(sealed.publicKey);
const build = (amount: number) => Buffer.from(new VersionedTransaction(new TransactionMessage({ payerKey: new PublicKey(new Uint8Array(32).fill(7)), recentBlockhash: new PublicKey(new Uint8Array(32).fill(9)).toBase58(), instructions: [multisig.instructions.spendingLimitUse({ multisigPda: ms, member: agent, spendingLimit: new PublicKey(spendingLimitAddress(ms.toBytes(), 'SOL')), vaultIndex: 0, amount, decimals: 9, destination: new PublicKey(new Uint8Array(32).fill(3)) })] }).compileToV0Message()).message.serialize());
const t = build(0x01010101), o = build(0x02020202);
const off = t.findIndex((b, i) => b !== o[i]);
let amount = 1000;
const N = Number(process.env.N ?? 30000);
const msgs = Array.from({ length: N + 1000 }, () => { const b = Buffer.from(t); b.writeBigUInt64LE(BigInt(amount++), off); return b; });
for (let r = 0; r < 3; r++) {
  const s: number[] = [];
  const base = r * 0;
  for (let i = 0; i < N / 3; i++) { const m = msgs[r * (N / 3) + i]!; const b = performance.now(); enclave.sign('w', m, { requestId: 'r' }); s.push(performance.now() - b); }
  const rs: number[] = [];
  for (let i = 0; i < N / 3; i++) { const b = performance.now(); sign(null, t, privateKey); rs.push(performance.now() - b); }
  s.sort((a, b) => a - b); rs.sort((a, b) => a - b);
  console.log('enclave.sign p50', (s[s.length >> 1]! * 1000).toFixed(1), 'raw', (rs[rs.length >> 1]! * 1000).toFixed(1), 'delta', ((s[s.length >> 1]! - rs[rs.length >> 1]!) * 1000).toFixed(1));
}
