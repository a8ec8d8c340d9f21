import { createHash } from 'node:crypto';
import { WaiaasError } from '../../core/errors.ts';
import { activeAgentKeys, type Store } from '../../store/index.ts';

/**
 * What the daemon requires of an attested enclave beyond the document's own checks: the statement it
 * returned is the one `user_data` commits to (sha256), and it lists every active agent key the daemon
 * stored for the wallets the instance serves — an enclave that lost or swapped a key is not used.
 */
export async function checkAttestedStatement(
  statement: string,
  userData: Uint8Array | null | undefined,
  store: Store,
  /** The wallets the instance serves: only their keys must be listed (none: the statement alone). */
  served: ReadonlySet<string>,
): Promise<void> {
  const committed = createHash('sha256').update(statement).digest();
  if (!userData || !committed.equals(Buffer.from(userData))) {
    throw new WaiaasError('ATTESTATION_INVALID', { details: { reason: 'STATEMENT_MISMATCH' } });
  }
  const attested = new Set<string>();
  const parsed = JSON.parse(statement) as { wallets?: { walletId: string; agentKeys: string[] }[] };
  for (const wallet of parsed.wallets ?? [])
    for (const key of wallet.agentKeys) attested.add(`${wallet.walletId}/${key}`);
  if (served.size === 0) return;
  const missing = (await activeAgentKeys(store.db)).filter(
    (key) => served.has(key.walletId) && !attested.has(`${key.walletId}/${key.publicKey}`),
  );
  if (missing.length > 0) {
    throw new WaiaasError('ATTESTATION_INVALID', {
      details: { reason: 'AGENT_KEYS_MISSING', keys: missing.map((key) => key.publicKey) },
    });
  }
}
