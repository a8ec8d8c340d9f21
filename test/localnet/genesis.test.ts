/**
 * The Squads ProgramConfig account the localnet writes at genesis, without the Squads SDK in the
 * localnet process: the same address and bytes as @sqds/multisig derives and serialises.
 */
import { PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import bs58 from 'bs58';
import { expect, it } from 'vitest';
import { squadsProgramConfigAddress, squadsProgramConfigData } from '../../src/localnet/genesis.ts';
import { squadsConfigAuthorityKey, squadsTreasuryKey } from '../../src/localnet/localnet-keys.ts';
import { SQUADS_PROGRAM_ID } from '../../src/localnet/squads-program.ts';

it('writes the ProgramConfig at the address and in the layout the Squads SDK uses', () => {
  const programId = new PublicKey(SQUADS_PROGRAM_ID);
  expect(squadsProgramConfigAddress()).toBe(multisig.getProgramConfigPda({ programId })[0].toBase58());

  const authority = squadsConfigAuthorityKey.publicKey;
  const treasury = squadsTreasuryKey.publicKey;
  for (const fee of [0n, 1_234_567_890n]) {
    const [expected] = multisig.accounts.ProgramConfig.fromArgs({
      authority: new PublicKey(authority),
      multisigCreationFee: Number(fee),
      treasury: new PublicKey(treasury),
      reserved: new Array(64).fill(0),
    }).serialize();
    expect(bs58.encode(squadsProgramConfigData(authority, fee, treasury))).toBe(bs58.encode(expected));
    const decoded = multisig.accounts.ProgramConfig.fromAccountInfo({
      data: Buffer.from(squadsProgramConfigData(authority, fee, treasury)),
      executable: false,
      lamports: 1,
      owner: programId,
    })[0];
    expect(decoded.treasury.toBase58()).toBe(bs58.encode(treasury));
    expect(BigInt(decoded.multisigCreationFee.toString())).toBe(fee);
  }
});
