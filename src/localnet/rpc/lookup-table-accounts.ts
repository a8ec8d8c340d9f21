/**
 * Address lookup table accounts in `jsonParsed` form, as clients that resolve v0 transactions read
 * them (@solana/kit's fetchAddressesForLookupTables asks for exactly this, and so do x402
 * facilitators). Layout: u32 type (1 = lookup table), u64 deactivation slot, u64 last extended slot,
 * u8 its start index, Option<Pubkey> authority (u8 tag + 32 bytes), u16 padding, then the addresses.
 */
import bs58 from 'bs58';

export const ADDRESS_LOOKUP_TABLE_PROGRAM_ID = 'AddressLookupTab1e1111111111111111111111111';

const META_BYTES = 56;
const LOOKUP_TABLE = 1;

export function parseLookupTableData(
  data: Uint8Array,
): { program: string; parsed: unknown; space: number } | null {
  if (data.length < META_BYTES || (data.length - META_BYTES) % 32 !== 0) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const kind = view.getUint32(0, true);
  if (kind === 0)
    return { program: 'address-lookup-table', parsed: { type: 'uninitialized' }, space: data.length };
  if (kind !== LOOKUP_TABLE) return null;
  const addresses: string[] = [];
  for (let at = META_BYTES; at < data.length; at += 32)
    addresses.push(bs58.encode(data.subarray(at, at + 32)));
  const info: Record<string, unknown> = {
    deactivationSlot: view.getBigUint64(4, true).toString(),
    lastExtendedSlot: view.getBigUint64(12, true).toString(),
    lastExtendedSlotStartIndex: data[20],
    ...(data[21] === 1 ? { authority: bs58.encode(data.subarray(22, 54)) } : {}),
    addresses,
  };
  return { program: 'address-lookup-table', parsed: { type: 'lookupTable', info }, space: data.length };
}
