/**
 * An enclave's own verdict on a valid SOL spending-limit transfer, asked over a connection of the
 * test's own (what a compromised daemon holding the channel key could send): `signed`, or
 * `CODE@layer[/reason]`.
 */
import { randomBytes } from 'node:crypto';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import { buildAgentTransfer } from '../../src/squads/index.ts';

export async function directSignVerdict(
  client: Pick<EnclaveClient, 'sign'>,
  wallet: { id: string; multisig: string; agent: string },
  amount: bigint,
  recentBlockhash: string,
): Promise<string> {
  const transaction = buildAgentTransfer({
    multisig: new PublicKey(wallet.multisig),
    agent: new PublicKey(wallet.agent),
    feePayer: Keypair.generate().publicKey,
    asset: 'SOL',
    amount,
    destination: Keypair.generate().publicKey,
    recentBlockhash,
  });
  try {
    await client.sign(wallet.id, transaction.message.serialize(), {
      requestId: `direct-${randomBytes(6).toString('hex')}`,
    });
    return 'signed';
  } catch (error) {
    const { code, layer, details } = error as { code: string; layer?: string; details: { reason?: string } };
    return `${code}@${layer}${details.reason ? `/${details.reason}` : ''}`;
  }
}
