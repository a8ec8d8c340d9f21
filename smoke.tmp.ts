import { startTestDaemon } from './test/support/daemon.ts';
import { createOwnerWalletSession, bearer } from './test/support/api.ts';
import { PublicKey, Keypair } from '@solana/web3.js';
const d = await startTestDaemon();
try {
  const doc = (await d.app.inject('/openapi.json')).json();
  for (const [p, ops] of Object.entries<any>(doc.paths)) for (const [m, op] of Object.entries<any>(ops)) console.log(m.toUpperCase(), p, Object.keys(op.responses).join(','));
  const s = await createOwnerWalletSession(d.app, d.runtime.store);
  await d.runtime.chain.connection.requestAirdrop(new PublicKey(s.wallet.vault), 3e9);
  await new Promise(r => setTimeout(r, 500));
  const w = await d.app.inject({ url: `/v1/wallets/${s.wallet.id}`, headers: bearer(s.owner.token) });
  console.log(w.statusCode, JSON.stringify(w.json().exposure, null, 1));
  const to = Keypair.generate().publicKey.toBase58();
  for (const amount of ['50000000', '300000000', '900000000', '1500000000', '3000000000']) {
    const r = await d.app.inject({ method: 'POST', url: `/v1/wallets/${s.wallet.id}/transfers/dry-run`, headers: bearer(s.session.token), payload: { to, amount } });
    console.log(r.statusCode, amount, JSON.stringify(r.json()).slice(0, 3000));
  }
} finally { await d.close(); }
