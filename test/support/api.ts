import type { FastifyInstance } from 'fastify';
import { generateToken, hashToken } from '../../src/core/tokens.ts';
import { insertOperatorToken, type Store } from '../../src/store/index.ts';

export const OWNER_PASSPHRASE = 'owner passphrase for tests';

/** A starter policy: SOL only, any recipient, tiers 0.1 / 0.5 / 1 SOL, 5 SOL a day. */
export const starterPolicy = (overrides: Record<string, unknown> = {}) => ({
  version: 1,
  assets: {
    SOL: {
      perTransaction: '2000000000',
      daily: '5000000000',
      tiers: { instantMax: '100000000', notifyMax: '500000000', delayMax: '1000000000', delaySeconds: 900 },
    },
  },
  recipients: { mode: 'any' },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: 1000 },
  approvalTimeoutSeconds: 3600,
  ...overrides,
});

export async function operatorToken(store: Store): Promise<string> {
  const token = generateToken('waiaas_op_');
  await insertOperatorToken(store.db, { tokenHash: hashToken(token), label: 'test' });
  return token;
}

export const bearer = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  ...extra,
});

/** operator → owner (local keystore) → wallet → agent session, all through the HTTP API. */
export async function createOwnerWalletSession(
  app: FastifyInstance,
  store: Store,
  policy: unknown = starterPolicy(),
) {
  const operator = await operatorToken(store);
  const ownerResponse = await app.inject({
    method: 'POST',
    url: '/v1/owners',
    headers: bearer(operator),
    payload: { name: 'Owner', signer: { kind: 'local', passphrase: OWNER_PASSPHRASE } },
  });
  if (ownerResponse.statusCode !== 201) throw new Error(`owner: ${ownerResponse.body}`);
  const owner = ownerResponse.json() as { id: string; token: string; publicKey: string };
  const walletResponse = await app.inject({
    method: 'POST',
    url: '/v1/wallets',
    headers: bearer(owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
    payload: { name: 'Agent wallet', policy },
  });
  if (walletResponse.statusCode !== 201) throw new Error(`wallet: ${walletResponse.body}`);
  const wallet = walletResponse.json() as {
    id: string;
    multisig: string;
    vault: string;
    agentPublicKey: string;
  };
  const sessionResponse = await app.inject({
    method: 'POST',
    url: `/v1/wallets/${wallet.id}/sessions`,
    headers: bearer(owner.token),
    payload: { ttlSeconds: 3600 },
  });
  if (sessionResponse.statusCode !== 201) throw new Error(`session: ${sessionResponse.body}`);
  const session = sessionResponse.json() as { id: string; token: string };
  return { operator, owner, wallet, session };
}
