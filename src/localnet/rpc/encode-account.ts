import bs58 from 'bs58';
import type { Account, LiteSvm } from 'litesvm/dist/internal.js';
import { invalidParams, RpcError, RpcErrorCode } from './errors.ts';
import { ADDRESS_LOOKUP_TABLE_PROGRAM_ID, parseLookupTableData } from './lookup-table-accounts.ts';
import { oneOf, unsignedInteger } from './params.ts';
import { isMintData, isTokenProgram, mintDecimals, parseTokenData } from './token-accounts.ts';

const ENCODINGS = ['binary', 'base58', 'base64', 'base64+zstd', 'jsonParsed'] as const;
export type AccountEncoding = (typeof ENCODINGS)[number];

export interface AccountView {
  encoding: AccountEncoding;
  dataSlice: { offset: number; length: number } | null;
}

export interface AccountJson {
  data: string | [string, string] | { program: string; parsed: unknown; space: number };
  executable: boolean;
  lamports: bigint;
  owner: string;
  rentEpoch: bigint;
  space: number;
}

const MAX_BASE58_BYTES = 128;

export function accountView(config: Record<string, unknown>, fallback: AccountEncoding): AccountView {
  const encoding = oneOf(config['encoding'], ENCODINGS, fallback, 'encoding');
  if (encoding === 'base64+zstd') {
    throw invalidParams('Invalid params: base64+zstd encoding is not supported by the localnet; use base64');
  }
  const slice = config['dataSlice'];
  if (slice === undefined || slice === null) return { encoding, dataSlice: null };
  if (typeof slice !== 'object') throw invalidParams('Invalid params: dataSlice must be {offset, length}');
  const { offset, length } = slice as { offset?: unknown; length?: unknown };
  return {
    encoding,
    dataSlice: {
      offset: unsignedInteger(offset, 'dataSlice.offset'),
      length: unsignedInteger(length, 'dataSlice.length'),
    },
  };
}

export const decimalsOfMint =
  (svm: LiteSvm) =>
  (mint: Uint8Array): number | null => {
    const data = svm.getAccount(mint)?.data();
    return data && isMintData(data) ? mintDecimals(data) : null;
  };

export function encodeAccount(account: Account, view: AccountView, svm: LiteSvm): AccountJson {
  const full = account.data();
  const owner = bs58.encode(account.owner());
  const base = {
    executable: account.executable(),
    lamports: account.lamports(),
    owner,
    rentEpoch: account.rentEpoch(),
    space: full.length,
  };
  if (view.encoding === 'jsonParsed' && isTokenProgram(owner)) {
    const parsed = parseTokenData(owner, full, decimalsOfMint(svm));
    if (parsed) return { data: parsed, ...base };
  }
  if (view.encoding === 'jsonParsed' && owner === ADDRESS_LOOKUP_TABLE_PROGRAM_ID) {
    const parsed = parseLookupTableData(full);
    if (parsed) return { data: parsed, ...base };
  }
  const data = view.dataSlice
    ? full.subarray(view.dataSlice.offset, view.dataSlice.offset + view.dataSlice.length)
    : full;
  if (view.encoding === 'base58' || view.encoding === 'binary') {
    if (data.length > MAX_BASE58_BYTES) {
      throw new RpcError(
        RpcErrorCode.INVALID_REQUEST,
        'Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.',
      );
    }
    const text = bs58.encode(data);
    return { data: view.encoding === 'binary' ? text : [text, 'base58'], ...base };
  }
  return { data: [Buffer.from(data).toString('base64'), 'base64'], ...base };
}
