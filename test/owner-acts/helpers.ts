/**
 * Owner acts against a whole test daemon: HTTP calls as the owner, and the agent's side done the way
 * a transfer is signed (a squads spendingLimitUse built by the daemon's builders, signed by the real
 * enclave process, plus the fee payer) so each layer can be tried on its own.
 */
import { randomBytes } from 'node:crypto';
import { PublicKey, type VersionedTransaction } from '@solana/web3.js';
import type { WaiaasError } from '../../src/core/errors.ts';
import { rpcFailure } from '../../src/daemon/wallets/send-signed.ts';
import { buildAgentTransfer, chainRejection } from '../../src/squads/index.ts';
import { bearer, OWNER_PASSPHRASE } from '../support/api.ts';
import type { TestDaemon } from '../support/daemon.ts';

export const SOL = 1_000_000_000n;

export interface ActCall {
  readonly method?: 'POST' | 'PUT' | 'GET';
  readonly url: string;
  readonly token: string;
  readonly body?: unknown;
  /** The second factor; the owner's passphrase unless told otherwise (null: none sent). */
  readonly unlock?: string | null;
}

export async function call(daemon: TestDaemon, request: ActCall) {
  const unlock = request.unlock === undefined ? OWNER_PASSPHRASE : request.unlock;
  const response = await daemon.app.inject({
    method: request.method ?? 'POST',
    url: request.url,
    headers: bearer(request.token, unlock === null ? {} : { 'x-owner-unlock': unlock }),
    ...(request.body === undefined ? {} : { payload: request.body as Record<string, unknown> }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: assertions read the answer's nested JSON directly.
  return { status: response.statusCode, body: response.json() as Record<string, any> };
}

export async function fundVault(daemon: TestDaemon, vault: string, lamports: bigint): Promise<void> {
  await daemon.runtime.chain.connection.requestAirdrop(new PublicKey(vault), Number(lamports));
}

export const lamportsOf = async (daemon: TestDaemon, address: PublicKey | string): Promise<bigint> =>
  BigInt(await daemon.runtime.chain.connection.getBalance(new PublicKey(address), 'confirmed'));

/**
 * A SOL transfer by `agent` under the wallet's spending limit, signed by the enclave (L2 decides) and
 * the fee payer, not sent. Throws the enclave's refusal.
 */
export async function enclaveSignedTransfer(
  daemon: TestDaemon,
  wallet: { id: string; multisig: string },
  agent: string,
  amount: bigint,
  destination: PublicKey,
): Promise<{ transaction: VersionedTransaction; lastValidBlockHeight: bigint }> {
  const { runtime } = daemon;
  const { blockhash, lastValidBlockHeight } = await runtime.chain.recentBlockhash();
  const transaction = buildAgentTransfer({
    multisig: new PublicKey(wallet.multisig),
    agent: new PublicKey(agent),
    feePayer: runtime.feePayer.publicKey,
    asset: 'SOL',
    amount,
    destination,
    recentBlockhash: blockhash,
  });
  const signed = await runtime.enclave.use((client) =>
    client.sign(wallet.id, transaction.message.serialize(), {
      requestId: `test-${randomBytes(6).toString('hex')}`,
    }),
  );
  transaction.addSignature(new PublicKey(signed.publicKey), signed.signature);
  transaction.sign([runtime.feePayer]);
  return { transaction, lastValidBlockHeight };
}

/** Sends a signed transaction and says how the chain took it (the program's error name on refusal). */
export async function submit(
  daemon: TestDaemon,
  signed: { transaction: VersionedTransaction; lastValidBlockHeight: bigint },
): Promise<{ ok: true; signature: string } | { ok: false; code: string; programError: string }> {
  const { chain } = daemon.runtime;
  const refused = (error: WaiaasError) => ({
    ok: false as const,
    code: error.code,
    programError: String(error.details['programError'] ?? error.details['reason'] ?? ''),
  });
  let signature: string;
  try {
    signature = await chain.send(signed.transaction.serialize());
  } catch (error) {
    return refused(rpcFailure(error));
  }
  const outcome = await chain.confirm(signature, signed.lastValidBlockHeight);
  if (outcome.status === 'confirmed') return { ok: true, signature };
  if (outcome.status === 'failed') return refused(chainRejection(outcome.err));
  return { ok: false, code: outcome.status, programError: '' };
}

/** The enclave's answer to signing, as `signed` or its refusal code and layer. */
export async function enclaveVerdict(
  daemon: TestDaemon,
  wallet: { id: string; multisig: string },
  agent: string,
  amount: bigint,
  destination: PublicKey,
): Promise<string> {
  try {
    await enclaveSignedTransfer(daemon, wallet, agent, amount, destination);
    return 'signed';
  } catch (error) {
    const { code, layer } = error as { code?: string; layer?: string };
    return `${code}@${layer}`;
  }
}
