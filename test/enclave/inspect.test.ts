import { randomBytes } from 'node:crypto';
import { getAssociatedTokenAddressSync, TOKEN_2022_PROGRAM_ID } from '@solana/spl-token';
import { Keypair, PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { describe, expect, it } from 'vitest';
import { ByteReader, MalformedBytes } from '../../src/solana/inspect/bytes.ts';
import { isOnCurve } from '../../src/solana/inspect/curve.ts';
import { decodeMessage } from '../../src/solana/inspect/message.ts';
import {
  associatedTokenAddress,
  findProgramAddress,
  spendingLimitAddress,
  vaultAddress,
} from '../../src/solana/inspect/pda.ts';
import { SQUADS_DISCRIMINATORS } from '../../src/solana/inspect/squads-instructions.ts';
import { spendingLimitAddress as squadsSpendingLimitAddress } from '../../src/squads/pdas.ts';

describe('inspection primitives agree with the reference libraries', () => {
  it('decides on-curve like web3.js, for keys and for random bytes', () => {
    for (let index = 0; index < 200; index++) {
      const key = Keypair.generate().publicKey.toBytes();
      expect(isOnCurve(key)).toBe(true);
      const random = randomBytes(32);
      expect(isOnCurve(random)).toBe(PublicKey.isOnCurve(random));
    }
  });

  it('derives the same program addresses as web3.js and the Squads SDK', () => {
    for (let index = 0; index < 20; index++) {
      const multisigPda = Keypair.generate().publicKey;
      expect(new PublicKey(vaultAddress(multisigPda.toBytes())).toBase58()).toBe(
        multisig.getVaultPda({ multisigPda, index: 0 })[0].toBase58(),
      );
      const seeds = [randomBytes(32), Buffer.from('seed')];
      const [mine, bump] = findProgramAddress(seeds, multisig.PROGRAM_ID.toBytes());
      const [theirs, theirBump] = PublicKey.findProgramAddressSync(seeds, multisig.PROGRAM_ID);
      expect(new PublicKey(mine).equals(theirs)).toBe(true);
      expect(bump).toBe(theirBump);
      const owner = Keypair.generate().publicKey;
      const mint = Keypair.generate().publicKey;
      expect(
        new PublicKey(
          associatedTokenAddress(owner.toBytes(), mint.toBytes(), TOKEN_2022_PROGRAM_ID.toBytes()),
        ).toBase58(),
      ).toBe(getAssociatedTokenAddressSync(mint, owner, true, TOKEN_2022_PROGRAM_ID).toBase58());
    }
  });

  it('finds each asset’s spending limit where src/squads creates it', () => {
    const multisigPda = Keypair.generate().publicKey;
    const mint = Keypair.generate().publicKey;
    expect(new PublicKey(spendingLimitAddress(multisigPda.toBytes(), 'SOL')).toBase58()).toBe(
      squadsSpendingLimitAddress(multisigPda, 'SOL').toBase58(),
    );
    expect(new PublicKey(spendingLimitAddress(multisigPda.toBytes(), mint.toBase58())).toBase58()).toBe(
      squadsSpendingLimitAddress(multisigPda, mint).toBase58(),
    );
  });

  it('uses the SDK discriminators', () => {
    const generated = multisig.generated;
    expect([...SQUADS_DISCRIMINATORS.spendingLimitUse]).toEqual(
      generated.spendingLimitUseInstructionDiscriminator,
    );
    expect([...SQUADS_DISCRIMINATORS.vaultTransactionCreate]).toEqual(
      generated.vaultTransactionCreateInstructionDiscriminator,
    );
    expect([...SQUADS_DISCRIMINATORS.proposalCreate]).toEqual(
      generated.proposalCreateInstructionDiscriminator,
    );
    expect([...SQUADS_DISCRIMINATORS.proposalApprove]).toEqual(
      generated.proposalApproveInstructionDiscriminator,
    );
  });

  it('reads compact-u16 like the runtime, refusing alias and overlong encodings', () => {
    const read = (...bytes: number[]) => new ByteReader(Uint8Array.from(bytes)).compactU16();
    expect(read(0x00)).toBe(0);
    expect(read(0x7f)).toBe(127);
    expect(read(0x80, 0x01)).toBe(128);
    expect(read(0xff, 0xff, 0x03)).toBe(0xffff);
    expect(() => read(0x80, 0x00)).toThrow(MalformedBytes);
    expect(() => read(0xff, 0xff, 0x04)).toThrow(MalformedBytes);
    expect(() => read(0x80)).toThrow(MalformedBytes);
  });

  it('refuses structurally invalid messages', () => {
    const payer = Keypair.generate().publicKey.toBytes();
    const program = Keypair.generate().publicKey.toBytes();
    const valid = Buffer.concat([
      Buffer.from([1, 0, 1, 2]),
      payer,
      program,
      Buffer.alloc(32),
      Buffer.from([1, 1, 1, 0, 0]),
    ]);
    expect(decodeMessage(valid).instructions).toHaveLength(1);
    expect(() => decodeMessage(Buffer.concat([valid, Buffer.from([0])]))).toThrow(/trailing/);
    const duplicate = Buffer.from(valid);
    Buffer.from(payer).copy(duplicate, 4 + 32);
    expect(() => decodeMessage(duplicate)).toThrow(/duplicate/);
    const programIsPayer = Buffer.from(valid);
    programIsPayer[4 + 64 + 32 + 1] = 0;
    expect(() => decodeMessage(programIsPayer)).toThrow(/program index/);
    expect(() => decodeMessage(Buffer.concat([Buffer.from([0x81]), valid]))).toThrow(/version 1/);
  });
});
