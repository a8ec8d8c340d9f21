/**
 * Addresses the enclave derives itself rather than accepting from the host: the wallet's vault, its
 * spending limit per asset, and associated token accounts. Derivation costs a few hundred microseconds
 * (an on-curve check per bump), so callers cache the results per wallet.
 */
import { createHash } from 'node:crypto';
import bs58 from 'bs58';
import { isOnCurve } from './curve.ts';
import { ASSOCIATED_TOKEN_PROGRAM, SQUADS_PROGRAM } from './programs.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);
const squadsProgram = SQUADS_PROGRAM.bytes;
const associatedTokenProgram = ASSOCIATED_TOKEN_PROGRAM.bytes;
const PDA_MARKER = utf8('ProgramDerivedAddress');

/** Solana's find_program_address: the first bump from 255 down whose address is off the curve. */
export const findProgramAddress = (
  seeds: readonly Uint8Array[],
  program: Uint8Array,
): [Uint8Array, number] => {
  for (let bump = 255; bump >= 0; bump--) {
    const hash = createHash('sha256');
    for (const seed of seeds) hash.update(seed);
    const address = new Uint8Array(
      hash.update(Uint8Array.of(bump)).update(program).update(PDA_MARKER).digest(),
    );
    if (!isOnCurve(address)) return [address, bump];
  }
  throw new Error('no program address found');
};

const derive = (seeds: Uint8Array[], program: Uint8Array): Uint8Array =>
  findProgramAddress(seeds, program)[0];

/** The multisig's vault at `index` (WAIaaS keeps funds in vault 0). */
export const vaultAddress = (multisig: Uint8Array, index = 0): Uint8Array =>
  derive([utf8('multisig'), multisig, utf8('vault'), Uint8Array.of(index)], squadsProgram);

export const SPENDING_LIMIT_CREATE_KEY_LABEL = 'waiaas/squads/spending-limit/v1';
const SOL_LIMIT_MINT = new Uint8Array(32);

/**
 * The `createKey` of a wallet's spending limit for one asset, as src/squads derives it:
 * sha256("waiaas/squads/spending-limit/v1" ‖ multisig (32 bytes) ‖ mint (32 bytes; all zero for SOL)).
 * It is a seed, not a signer, so it need not be a curve point. One limit per (multisig, asset) lets
 * the enclave recognise each asset's limit without reading the chain; a limit created any other way
 * is refused with WRONG_SPENDING_LIMIT. (Re-derived here because the enclave may not import src/squads;
 * test/enclave/inspect.test.ts checks both agree.)
 */
export const spendingLimitCreateKey = (multisig: Uint8Array, asset: string): Uint8Array =>
  new Uint8Array(
    createHash('sha256')
      .update(SPENDING_LIMIT_CREATE_KEY_LABEL)
      .update(multisig)
      .update(asset === 'SOL' ? SOL_LIMIT_MINT : bs58.decode(asset))
      .digest(),
  );

export const spendingLimitAddress = (multisig: Uint8Array, asset: string): Uint8Array =>
  derive(
    [utf8('multisig'), multisig, utf8('spending_limit'), spendingLimitCreateKey(multisig, asset)],
    squadsProgram,
  );

export const associatedTokenAddress = (
  owner: Uint8Array,
  mint: Uint8Array,
  tokenProgram: Uint8Array,
): Uint8Array => derive([owner, tokenProgram, mint], associatedTokenProgram);
