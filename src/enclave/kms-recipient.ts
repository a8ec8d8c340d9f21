/**
 * The enclave's side of a KMS `Recipient`: an RSA key pair generated inside the enclave when it
 * starts, whose public half goes into the attestation document the enclave hands KMS with every
 * unseal request. KMS encrypts its answer to that key (CMS EnvelopedData, decrypted in
 * keys/vault/recipient-cms.ts), so the plaintext never crosses the host in the clear. The private
 * half never leaves this process.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { VaultRecipient } from '../keys/vault/types.ts';
import type { AttestationProvider } from './attestation/provider.ts';

export interface AttestedRecipientOptions {
  /** How long one attestation document is reused (KMS refuses stale ones). Default 60 s. */
  readonly reuseMs?: number;
  readonly now?: () => number;
}

export const createAttestedRecipient = (
  attestation: AttestationProvider,
  options: AttestedRecipientOptions = {},
): (() => Promise<VaultRecipient>) => {
  const now = options.now ?? Date.now;
  const reuseMs = options.reuseMs ?? 60_000;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  let current: { document: Uint8Array; at: number } | undefined;
  return async () => {
    const at = now();
    if (current === undefined || at - current.at >= reuseMs)
      current = { document: await attestation.attest({ publicKey: spki }), at };
    return { attestationDocument: current.document, privateKey };
  };
};
