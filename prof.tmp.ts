import { startTestDaemon } from './test/support/daemon.ts';
import { createOwnerWalletSession, bearer } from './test/support/api.ts';
import { Keypair } from '@solana/web3.js';
const d = await startTestDaemon();
const s = await createOwnerWalletSession(d.app, d.runtime.store);
const to = Keypair.generate().publicKey.toBase58();
const payload = JSON.stringify({ to, amount: '1000' });
const run = async (n: number, url: string, token: string, method = 'POST') => { const t0 = performance.now(); for (let i = 0; i < n; i++) { const r = await d.app.inject({ method: method as any, url, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: method === 'POST' ? payload : undefined }); if (r.statusCode !== 200) throw new Error(r.body); } return ((performance.now() - t0) / n * 1000).toFixed(0) + ' us/req'; };
await run(200, `/v1/wallets/${s.wallet.id}/transfers/dry-run?layers=server`, s.session.token);
console.log('dry-run server', await run(2000, `/v1/wallets/${s.wallet.id}/transfers/dry-run?layers=server`, s.session.token));




await d.close();
