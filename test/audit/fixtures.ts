/**
 * Owners, wallets and agent sessions written straight into a real store, for tests of the API's
 * audit and webhook routes that need principals but no chain, enclave or owner key.
 */
import { randomBytes } from 'node:crypto';
import bs58 from 'bs58';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { generateToken, hashToken } from '../../src/core/tokens.ts';
import { buildApp } from '../../src/daemon/app.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { PrincipalCache } from '../../src/daemon/principal-cache.ts';
import { readChainStatus } from '../../src/solana/chain-status.ts';
import {
  insertOperatorToken,
  insertOwner,
  insertSession,
  insertWallet,
  type Store,
} from '../../src/store/index.ts';

const address = (): string => bs58.encode(randomBytes(32));
const id = (prefix: string): string => `${prefix}_${randomBytes(6).toString('hex')}`;

export interface SeededOwner {
  ownerId: string;
  ownerToken: string;
  walletId: string;
  sessionId: string;
  sessionToken: string;
}

export async function seedOwner(store: Store, name = 'Owner'): Promise<SeededOwner> {
  const ownerToken = generateToken('waiaas_own_');
  const ownerId = id('own');
  await insertOwner(store.db, {
    id: ownerId,
    name,
    signer: { kind: 'local', keystorePath: `/nonexistent/${ownerId}.json` },
    publicKey: address(),
    tokenHash: hashToken(ownerToken),
  });
  const walletId = id('wal');
  await insertWallet(store.db, {
    id: walletId,
    ownerId,
    name: `${name} wallet`,
    status: 'active',
    multisig: address(),
    vault: address(),
    policyBundle: '{}',
    policyVersion: 1,
    agentKey: { publicKey: address(), sealed: '{}' },
  });
  const sessionToken = generateToken('waiaas_ses_');
  const sessionId = id('ses');
  await insertSession(store.db, {
    id: sessionId,
    walletId,
    tokenHash: hashToken(sessionToken),
    label: null,
    expiresAt: BigInt(Date.now() + 3_600_000),
  });
  return { ownerId, ownerToken, walletId, sessionId, sessionToken };
}

export async function seedOperator(store: Store): Promise<string> {
  const token = generateToken('waiaas_op_');
  await insertOperatorToken(store.db, { tokenHash: hashToken(token), label: 'test' });
  return token;
}

/** The daemon's app (problem handlers, OpenAPI, metrics) with only the given routes. */
export async function buildRoutesApp(
  store: Store,
  routes: FastifyPluginAsync[],
  prepare?: (app: FastifyInstance) => void,
): Promise<FastifyInstance> {
  const app = await buildApp({
    logger: createLogger('silent'),
    store,
    principals: new PrincipalCache(store),
    health: {
      version: '0.0.0-test',
      network: 'localnet',
      startedAt: Date.now(),
      readDatabase: () => store.health(),
      // Port 9 (discard) on loopback: no chain; these routes never need one.
      readChain: () => readChainStatus('http://127.0.0.1:9', 500),
    },
    routes,
  });
  prepare?.(app);
  await app.ready();
  return app;
}
