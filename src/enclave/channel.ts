/**
 * Who may talk to an enclave instance. With a channel key (the deployment's credential, handed over on
 * stdin at start, never on the command line), every connection must first prove it holds the key:
 * HELLO answers a fresh 32-byte challenge, HELLO { proof: HMAC-SHA256(key, challenge) } opens the
 * connection; until then every other request is refused and a wrong proof closes the connection.
 * The other direction (is this the enclave it claims to be) is the daemon's attestation check.
 *
 * Without a channel key the socket's file mode (0600) is the only gate: how the enclave ran before
 * replicas could reach instances that are not their own children, and how tests start it bare.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WaiaasError } from '../core/errors.ts';

export const CHANNEL_CHALLENGE_BYTES = 32;

/** The proof a client sends for `challenge`. */
export const channelProof = (key: Uint8Array, challenge: Uint8Array): Buffer =>
  createHmac('sha256', key).update('waiaas enclave channel v1\n').update(challenge).digest();

export const channelRefused = (reason: string): WaiaasError =>
  new WaiaasError('ENCLAVE_CHANNEL_REFUSED', { details: { reason } });

/** One connection's side of the handshake, on the enclave. */
export class ChannelGate {
  readonly #key: Uint8Array | undefined;
  #challenge: Buffer | undefined;
  #open: boolean;

  constructor(key: Uint8Array | undefined) {
    this.#key = key;
    this.#open = key === undefined;
  }

  get open(): boolean {
    return this.#open;
  }

  /** Answers HELLO; throws ENCLAVE_CHANNEL_REFUSED on a wrong or unasked-for proof. */
  hello(proof: string | undefined): { challenge?: string; authenticated: boolean } {
    if (this.#key === undefined || this.#open) return { authenticated: true };
    if (proof === undefined) {
      this.#challenge = randomBytes(CHANNEL_CHALLENGE_BYTES);
      return { challenge: this.#challenge.toString('base64'), authenticated: false };
    }
    const challenge = this.#challenge;
    // One proof per challenge: a wrong one is not retried on this connection.
    this.#challenge = undefined;
    if (challenge === undefined) throw channelRefused('no challenge asked for');
    const expected = channelProof(this.#key, challenge);
    const given = Buffer.from(proof, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw channelRefused('wrong proof');
    this.#open = true;
    return { authenticated: true };
  }
}
