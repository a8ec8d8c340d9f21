import type { AccountInfo, Commitment, PublicKey } from '@solana/web3.js';

export type ProgramAccountsFilter = { dataSize: number } | { memcmp: { offset: number; bytes: string } };

/**
 * The two JSON-RPC reads the Squads readers need. A web3.js `Connection` satisfies it; so does any
 * in-process chain, which keeps the decoders testable apart from the transport.
 */
export interface SquadsAccountReader {
  getMultipleAccountsInfo(
    publicKeys: PublicKey[],
    commitment?: Commitment,
  ): Promise<(AccountInfo<Buffer> | null)[]>;
  getProgramAccounts(
    programId: PublicKey,
    config: { filters: ProgramAccountsFilter[] },
  ): Promise<readonly { pubkey: PublicKey; account: AccountInfo<Buffer> }[]>;
}
