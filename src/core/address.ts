import bs58 from 'bs58';
import { WaiaasError } from './errors.ts';

/** A Solana address: base58 of a 32-byte public key. Only this module's functions produce one. */
export type Address = string & { readonly __brand: 'Address' };

export const ADDRESS_BYTES = 32;

export const addressFromBytes = (bytes: Uint8Array): Address => {
  if (bytes.length !== ADDRESS_BYTES) {
    throw new WaiaasError('INVALID_ADDRESS', { details: { length: bytes.length } });
  }
  return bs58.encode(bytes) as Address;
};

const decodeOrUndefined = (text: string): Uint8Array | undefined => {
  try {
    return bs58.decode(text);
  } catch {
    return undefined;
  }
};

export const isAddress = (text: string): text is Address =>
  text.length >= 32 && text.length <= 44 && decodeOrUndefined(text)?.length === ADDRESS_BYTES;

export const parseAddress = (text: string): Address => {
  if (!isAddress(text)) throw new WaiaasError('INVALID_ADDRESS', { details: { value: text.slice(0, 64) } });
  return text;
};

export const addressToBytes = (address: Address): Uint8Array => bs58.decode(address);
