import BetterSqlite3 from 'better-sqlite3';
if (process.env.CACHE) {
  const original = BetterSqlite3.prototype.prepare;
  const caches = new WeakMap<object, Map<string, unknown>>();
  BetterSqlite3.prototype.prepare = function (this: any, source: string) {
    let cache = caches.get(this); if (!cache) { cache = new Map(); caches.set(this, cache); }
    let stmt = cache.get(source); if (!stmt) { stmt = original.call(this, source); if (cache.size < 1000) cache.set(source, stmt); }
    return stmt as any;
  } as any;
}
const { startTestDaemon } = await import('./test/support/daemon.ts');
const { createOwnerWalletSession, bearer } = await import('./test/support/api.ts');
const { Keypair } = await import('@solana/web3.js');
const d = await startTestDaemon();
const s = await createOwnerWalletSession(d.app, d.runtime.store);
const to = Keypair.generate().publicKey.toBase58();
const payload = JSON.stringify({ to, amount: '1000' });
const time = async (name: string, n: number, f: () => unknown) => { for (let i = 0; i < 500; i++) await f(); const t0 = performance.now(); for (let i = 0; i < n; i++) await f(); console.log(process.env.CACHE ? 'cache' : 'plain', name, ((performance.now() - t0) / n * 1000).toFixed(0), 'us'); };
for (let round = 0; round < 2; round++) {
await time('dry-run server', 3000, () => d.app.inject({ method: 'POST', url: `/v1/wallets/${s.wallet.id}/transfers/dry-run?layers=server`, headers: { ...bearer(s.session.token), 'content-type': 'application/json' }, payload }));
await time('dry-run all', 3000, () => d.app.inject({ method: 'POST', url: `/v1/wallets/${s.wallet.id}/transfers/dry-run`, headers: { ...bearer(s.session.token), 'content-type': 'application/json' }, payload }));
await time('deposit', 3000, () => d.app.inject({ method: 'GET', url: `/v1/wallets/${s.wallet.id}/deposit-address`, headers: bearer(s.session.token) }));
}
await d.close();
