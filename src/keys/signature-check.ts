import type { KeyObject } from 'node:crypto';
import { type Address, addressToBytes } from '../core/address.ts';
import { WaiaasError } from '../core/errors.ts';
import { publicKeyObject, verifyEd25519 } from './ed25519.ts';
import type { OwnerSigner } from './types.ts';

/** Returns the signature only if it verifies; a signer that returns anything else is never trusted. */
export const assertSignatureValid = (
  key: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
  signer: Address,
): Uint8Array => {
  if (!verifyEd25519(key, message, signature)) {
    throw new WaiaasError('SIGNATURE_INVALID', { details: { signer, signatureLength: signature.length } });
  }
  return signature;
};

/** Wraps any signer so that each signature is checked against its public key before it is handed out. */
export const withSignatureCheck = (signer: OwnerSigner): OwnerSigner => {
  let verifier: { address: Address; key: KeyObject } | undefined;
  const verifierFor = async () => {
    const address = await signer.publicKey();
    if (verifier?.address !== address) verifier = { address, key: publicKeyObject(addressToBytes(address)) };
    return verifier;
  };
  return {
    publicKey: () => signer.publicKey(),
    async sign(message) {
      const { address, key } = await verifierFor();
      return assertSignatureValid(key, message, await signer.sign(message), address);
    },
  };
};
