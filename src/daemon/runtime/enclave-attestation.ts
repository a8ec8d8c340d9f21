import { randomBytes } from 'node:crypto';
import { verifyAttestation } from '../../attestation/index.ts';
import type { EnclaveClient } from '../enclave-client.ts';

export interface AttestationPins {
  /** PEM of the root the document must chain to; undefined: the AWS Nitro root. */
  readonly root: string | undefined;
  /** Hex PCR0 the document must carry: this checkout's enclave code, or the pinned Nitro image. */
  readonly pcr0: string;
}

/**
 * Asks the enclave for an attestation document over a fresh nonce and checks it: chain to the root,
 * the nonce, PCR0. Returns the statement it signed and the user data committing to it.
 */
export async function attestEnclave(
  client: Pick<EnclaveClient, 'attest'>,
  pins: AttestationPins,
): Promise<{ statement: string; userData: Uint8Array | null | undefined }> {
  const nonce = randomBytes(32);
  const { document, statement } = await client.attest({ nonce });
  const verified = verifyAttestation(document, {
    ...(pins.root === undefined ? {} : { root: pins.root }),
    expectedNonce: nonce,
    pcrs: { 0: [pins.pcr0] },
  });
  return { statement, userData: verified.userData };
}
