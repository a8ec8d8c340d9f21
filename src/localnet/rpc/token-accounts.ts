import bs58 from 'bs58';

export const TOKEN_PROGRAM_ID = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
export const TOKEN_2022_PROGRAM_ID = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb';

const ACCOUNT_SIZE = 165;
const MINT_SIZE = 82;
const ACCOUNT_TYPE_MINT = 1;
const ACCOUNT_TYPE_ACCOUNT = 2;
const STATES = ['uninitialized', 'initialized', 'frozen'] as const;

export const isTokenProgram = (owner: string): boolean =>
  owner === TOKEN_PROGRAM_ID || owner === TOKEN_2022_PROGRAM_ID;

/** SPL token account (base layout; Token-2022 accounts carry extensions after byte 165). */
export function isTokenAccountData(data: Uint8Array): boolean {
  return (
    data.length === ACCOUNT_SIZE ||
    (data.length > ACCOUNT_SIZE && data[ACCOUNT_SIZE] === ACCOUNT_TYPE_ACCOUNT)
  );
}

export function isMintData(data: Uint8Array): boolean {
  return (
    data.length === MINT_SIZE || (data.length > ACCOUNT_SIZE && data[ACCOUNT_SIZE] === ACCOUNT_TYPE_MINT)
  );
}

const view = (data: Uint8Array): DataView => new DataView(data.buffer, data.byteOffset, data.length);
const key = (data: Uint8Array, at: number): string => bs58.encode(data.subarray(at, at + 32));
const optionalKey = (data: Uint8Array, at: number): string | null =>
  view(data).getUint32(at, true) === 1 ? key(data, at + 4) : null;

export const tokenAccountMint = (data: Uint8Array): Uint8Array => data.subarray(0, 32);
export const tokenAccountOwner = (data: Uint8Array): Uint8Array => data.subarray(32, 64);
export const tokenAccountAmount = (data: Uint8Array): bigint => view(data).getBigUint64(64, true);
export const mintDecimals = (data: Uint8Array): number => data[44] ?? 0;
export const mintSupply = (data: Uint8Array): bigint => view(data).getBigUint64(36, true);

export interface UiTokenAmount {
  amount: string;
  decimals: number;
  uiAmount: number | null;
  uiAmountString: string;
}

export function uiTokenAmount(amount: bigint, decimals: number): UiTokenAmount {
  const digits = amount.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  const uiAmountString = fraction ? `${whole}.${fraction}` : whole;
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}

/** The jsonParsed form of a token account or mint, or null when the data is neither. */
export function parseTokenData(
  program: string,
  data: Uint8Array,
  decimalsOfMint: (mint: Uint8Array) => number | null,
): { program: string; parsed: unknown; space: number } | null {
  const programName = program === TOKEN_PROGRAM_ID ? 'spl-token' : 'spl-token-2022';
  if (isTokenAccountData(data)) {
    const decimals = decimalsOfMint(tokenAccountMint(data));
    if (decimals === null) return null;
    const v = view(data);
    const isNative = v.getUint32(109, true) === 1;
    const delegate = optionalKey(data, 72);
    const closeAuthority = optionalKey(data, 129);
    const info: Record<string, unknown> = {
      isNative,
      mint: key(data, 0),
      owner: key(data, 32),
      state: STATES[data[108] ?? 0] ?? 'uninitialized',
      tokenAmount: uiTokenAmount(tokenAccountAmount(data), decimals),
    };
    if (delegate) {
      info['delegate'] = delegate;
      info['delegatedAmount'] = uiTokenAmount(v.getBigUint64(121, true), decimals);
    }
    if (closeAuthority) info['closeAuthority'] = closeAuthority;
    if (isNative) info['rentExemptReserve'] = uiTokenAmount(v.getBigUint64(113, true), decimals);
    return { program: programName, parsed: { info, type: 'account' }, space: data.length };
  }
  if (isMintData(data)) {
    return {
      program: programName,
      parsed: {
        info: {
          decimals: mintDecimals(data),
          freezeAuthority: optionalKey(data, 46),
          isInitialized: data[45] === 1,
          mintAuthority: optionalKey(data, 0),
          supply: mintSupply(data).toString(),
        },
        type: 'mint',
      },
      space: data.length,
    };
  }
  return null;
}
