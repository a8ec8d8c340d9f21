/**
 * Bench set-up shared by bench/api.ts and bench/transfer.ts: one owner (one unlock window for all its
 * wallets), N wallets with a permissive SOL policy, an agent session each, and funded vaults.
 */
import { PublicKey } from '@solana/web3.js';
import type { FastifyInstance } from 'fastify';
import { generateToken, hashToken } from '../../src/core/tokens.ts';
import type { Runtime } from '../../src/daemon/runtime/runtime.ts';
import { findOwnerById, insertOperatorToken } from '../../src/store/index.ts';

const SOL = 1_000_000_000n;
const PASSPHRASE = 'bench owner passphrase';

export interface BenchWallet {
  id: string;
  multisig: string;
  vault: string;
  agent: string;
  token: string;
}

export async function airdrop(runtime: Runtime, address: string, lamports: bigint) {
  const signature = await runtime.chain.connection.requestAirdrop(new PublicKey(address), Number(lamports));
  const { lastValidBlockHeight } = await runtime.chain.recentBlockhash();
  await runtime.chain.confirm(signature, lastValidBlockHeight);
}

export async function setUpBenchWallets(
  app: FastifyInstance,
  runtime: Runtime,
  wallets: number,
  fundLamports: bigint,
): Promise<{ ownerToken: string; wallets: BenchWallet[] }> {
  const operator = generateToken('waiaas_op_');
  await insertOperatorToken(runtime.store.db, { tokenHash: hashToken(operator), label: 'bench' });
  const ownerResponse = await app.inject({
    method: 'POST',
    url: '/v1/owners',
    headers: { authorization: `Bearer ${operator}` },
    payload: { name: 'Bench owner', signer: { kind: 'local', passphrase: PASSPHRASE } },
  });
  const owner = ownerResponse.json() as { id: string; token: string };
  // One unlock window for all the wallets, instead of a keystore decryption per wallet.
  const ownerRecord = await findOwnerById(runtime.store.db, owner.id);
  await runtime.ownerKeys.of(ownerRecord!).unlockFor(600, PASSPHRASE);
  const policy = {
    version: 1,
    assets: {
      SOL: {
        perTransaction: String(SOL),
        daily: String(1_000n * SOL),
        tiers: { instantMax: String(SOL), notifyMax: String(SOL), delayMax: String(SOL), delaySeconds: 0 },
      },
    },
    recipients: { mode: 'any' },
    hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
    rate: { maxPerHour: 1_000_000 },
    approvalTimeoutSeconds: 3600,
  };
  const made: BenchWallet[] = [];
  for (let index = 0; index < wallets; index++) {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/wallets',
      headers: { authorization: `Bearer ${owner.token}` },
      payload: { name: `Bench ${index}`, policy },
    });
    if (response.statusCode !== 201) throw new Error(`wallet: ${response.body}`);
    const wallet = response.json() as { id: string; multisig: string; vault: string; agentPublicKey: string };
    const session = await app.inject({
      method: 'POST',
      url: `/v1/wallets/${wallet.id}/sessions`,
      headers: { authorization: `Bearer ${owner.token}` },
      payload: { ttlSeconds: 3600 },
    });
    await airdrop(runtime, wallet.vault, fundLamports);
    made.push({
      id: wallet.id,
      multisig: wallet.multisig,
      vault: wallet.vault,
      agent: wallet.agentPublicKey,
      token: (session.json() as { token: string }).token,
    });
  }
  return { ownerToken: owner.token, wallets: made };
}
