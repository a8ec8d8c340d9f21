/**
 * What an attestation document's `user_data` commits to.
 *
 * user_data = sha256(UTF-8 statement), 32 bytes, where the statement is canonical JSON
 * (core/canonical-json.ts):
 *   {"domain":"waiaas:attestation:v1","wallets":[
 *     {"agentKeys":[base58…, sorted],"policyHash":hex|null,"policyVersion":n|null,"walletId":"…"}, …
 *   ]}
 * with wallets sorted by walletId. The enclave returns the statement with the document; a verifier
 * recomputes the hash, compares it with user_data, and reads which agent keys the attested code holds
 * and which owner-signed policy (by hash of its canonical bytes) each wallet is under. Committing to a
 * hash keeps user_data within its 1024-byte limit whatever the number of wallets.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';

export const ATTESTATION_STATEMENT_DOMAIN = 'waiaas:attestation:v1';

export interface AttestedWallet {
  readonly walletId: string;
  readonly agentKeys: readonly string[];
  readonly policyVersion: number | null;
  readonly policyHash: string | null;
}

export const attestationStatement = (wallets: readonly AttestedWallet[]): string =>
  canonicalJson({
    domain: ATTESTATION_STATEMENT_DOMAIN,
    wallets: [...wallets]
      .sort((a, b) => (a.walletId < b.walletId ? -1 : a.walletId > b.walletId ? 1 : 0))
      .map((wallet) => ({
        walletId: wallet.walletId,
        agentKeys: [...wallet.agentKeys].sort(),
        policyVersion: wallet.policyVersion,
        policyHash: wallet.policyHash,
      })),
  });

export const attestationUserData = (statement: string): Uint8Array =>
  new Uint8Array(createHash('sha256').update(statement, 'utf8').digest());
