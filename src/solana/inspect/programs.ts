import bs58 from 'bs58';

/** Programs the enclave recognises, as base58 and as the 32 bytes it compares against. */
const program = (base58: string) => ({ base58, bytes: new Uint8Array(bs58.decode(base58)) });

export const SQUADS_PROGRAM = program('SQDS4ep65T869zMMBKyuUq6aD6EgTu8psMjkvj52pCf');
export const SYSTEM_PROGRAM = program('11111111111111111111111111111111');
export const COMPUTE_BUDGET_PROGRAM = program('ComputeBudget111111111111111111111111111111');
export const TOKEN_PROGRAM = program('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA');
export const TOKEN_2022_PROGRAM = program('TokenzQdBNbLqP5VEhdkAS6EHFLC1PHnBqCXEpPxuEb');
export const ASSOCIATED_TOKEN_PROGRAM = program('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');
/** SPL Memo v2: the x402 exact scheme adds one memo (the seller's, or a random nonce) to every payment. */
export const MEMO_PROGRAM = program('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
