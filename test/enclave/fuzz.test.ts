/**
 * Property: random and mutated messages never make the enclave fail with anything but a coded
 * refusal, and it signs only the allowed shapes. Each signed message is checked by an independent
 * decoder (web3.js for the message, the @sqds/multisig SDK's own structs for Squads data), and every
 * signed message that executes on LiteSVM with the real Squads program moves exactly the amount the
 * enclave counted.
 */
import { randomBytes } from 'node:crypto';
import { Keypair, PublicKey, SystemProgram, VersionedMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { beforeAll, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { AgentEnclave, type SignResult } from '../../src/enclave/enclave.ts';
import { describeWithSquads, squadsBinaryPath } from '../support/squads-binary.ts';
import { createTestVault, solPolicy } from './helpers/fixtures.ts';
import { type HarnessWallet, L2Harness } from './helpers/l2-harness.ts';

const so = squadsBinaryPath;
const COMPUTE_BUDGET = new PublicKey('ComputeBudget111111111111111111111111111111');
const SQUADS = new PublicKey(multisig.PROGRAM_ADDRESS);
const generated = multisig.generated;

/** A small deterministic PRNG so a failing case can be replayed from its seed. */
const prng = (seed: number) => {
  let state = seed >>> 0 || 1;
  return (below: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % below;
  };
};

const mutate = (original: Uint8Array, random: (below: number) => number): Uint8Array => {
  const bytes = Buffer.from(original);
  switch (random(6)) {
    case 0: {
      const at = random(bytes.length);
      bytes[at] = bytes[at]! ^ (1 << random(8));
      return bytes;
    }
    case 1: {
      for (let count = 1 + random(4); count > 0; count--) bytes[random(bytes.length)] = random(256);
      return bytes;
    }
    case 2:
      return bytes.subarray(0, random(bytes.length));
    case 3:
      return Buffer.concat([bytes, randomBytes(1 + random(40))]);
    case 4: {
      const at = random(bytes.length);
      return Buffer.concat([bytes.subarray(0, at), randomBytes(1 + random(8)), bytes.subarray(at)]);
    }
    default: {
      const at = random(bytes.length);
      const length = 1 + random(Math.min(32, bytes.length - at));
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + length)]);
    }
  }
};

const eq = (a: PublicKey, b: PublicKey) => a.equals(b);

/** An independent reading of a message the enclave signed: what it must contain, and the amount moved. */
const independentCheck = (bytes: Uint8Array, wallet: HarnessWallet, signed: SignResult) => {
  const message = VersionedMessage.deserialize(bytes);
  const keys = message.staticAccountKeys;
  expect(message.addressTableLookups.length).toBe(0);
  expect(eq(keys[0]!, wallet.agent)).toBe(false);
  const agentIndex = keys.findIndex((key) => eq(key, wallet.agent));
  expect(agentIndex).toBeGreaterThan(0);
  expect(message.isAccountSigner(agentIndex)).toBe(true);
  let counted: bigint | undefined;
  let kinds = 0;
  for (const instruction of message.compiledInstructions) {
    const program = keys[instruction.programIdIndex]!;
    if (eq(program, COMPUTE_BUDGET)) continue;
    expect(eq(program, SQUADS)).toBe(true);
    kinds++;
    const data = Buffer.from(instruction.data);
    const account = (slot: number) => keys[instruction.accountKeyIndexes[slot]!]!;
    expect(eq(account(0), wallet.chain.multisig)).toBe(true);
    const discriminator = [...data.subarray(0, 8)].join();
    if (discriminator === generated.spendingLimitUseInstructionDiscriminator.join()) {
      const [args] = generated.spendingLimitUseStruct.deserialize(data);
      expect(eq(account(1), wallet.agent)).toBe(true);
      expect(eq(account(3), wallet.chain.vault)).toBe(true);
      counted = BigInt(args.args.amount.toString());
    } else if (discriminator === generated.vaultTransactionCreateInstructionDiscriminator.join()) {
      const [args] = generated.vaultTransactionCreateStruct.deserialize(data);
      const [inner] = multisig.types.transactionMessageBeet.deserialize(
        Buffer.from(args.args.transactionMessage),
      );
      expect(inner.addressTableLookups.length).toBe(0);
      expect(inner.numSigners).toBe(1);
      expect(eq(inner.accountKeys[0]!, wallet.chain.vault)).toBe(true);
      expect(inner.instructions.length).toBe(1);
      const transfer = inner.instructions[0]!;
      const innerData = Buffer.from(transfer.data);
      const innerProgram = inner.accountKeys[transfer.programIdIndex]!;
      if (eq(innerProgram, SystemProgram.programId)) {
        expect(innerData.readUInt32LE(0)).toBe(2);
        expect(eq(inner.accountKeys[transfer.accountIndexes[0]!]!, wallet.chain.vault)).toBe(true);
        counted = innerData.readBigUInt64LE(4);
      } else {
        expect(innerData[0]).toBe(12);
        expect(eq(inner.accountKeys[transfer.accountIndexes[3]!]!, wallet.chain.vault)).toBe(true);
        counted = innerData.readBigUInt64LE(1);
      }
    } else {
      expect([
        generated.proposalCreateInstructionDiscriminator.join(),
        generated.proposalApproveInstructionDiscriminator.join(),
      ]).toContain(discriminator);
    }
  }
  expect(kinds).toBeGreaterThan(0);
  expect(signed.transfer?.amount).toBe(counted);
};

describeWithSquads('fuzzing the enclave with random and mutated messages', () => {
  let enclave: AgentEnclave;
  let h: L2Harness;
  let wallet: HarnessWallet;
  const alice = Keypair.generate().publicKey;
  const seeds: Uint8Array[] = [];

  beforeAll(async () => {
    const { vault } = await createTestVault();
    enclave = AgentEnclave.create({ vault, now: () => Date.UTC(2025, 0, 15, 12) });
    h = new L2Harness(so!, {
      createAgentKey: (walletId, owner, address) => enclave.createAgentKey(walletId, owner, address),
      setPolicy: async (bundle) => enclave.setPolicy(bundle),
      sign: async (walletId, message, context) => enclave.sign(walletId, message, context),
      usage: async (walletId) => enclave.usage(walletId),
    });
    // Mutants reuse the seed's blockhash; the chain should judge them on their content.
    h.chain.svm.withBlockhashCheck(false);
    const big = '1000000000000';
    wallet = await h.wallet(
      solPolicy({
        recipients: { mode: 'any' },
        assets: {
          SOL: {
            perTransaction: big,
            daily: big,
            tiers: { instantMax: big, notifyMax: big, delayMax: big, delaySeconds: 0 },
          },
        },
        rate: { maxPerHour: 1_000_000 },
      }),
    );
    const spend = h.spendingLimitUse(wallet, 25_000_000n, alice);
    seeds.push(h.chain.message([spend]).message.serialize());
    seeds.push(h.chain.message([spend], undefined, true).message.serialize());
    seeds.push(
      h.chain.message(h.proposal(wallet, 1n, [h.vaultTransfer(wallet, alice, 1_000n)])).message.serialize(),
    );
  });

  const attempt = (bytes: Uint8Array, requestId: string): SignResult | undefined => {
    try {
      return enclave.sign(wallet.walletId, bytes, { requestId });
    } catch (error) {
      if (!isWaiaasError(error))
        throw new Error(`enclave crashed on ${Buffer.from(bytes).toString('hex')}: ${error}`);
      return undefined;
    }
  };

  it('never signs random bytes', () => {
    const random = prng(7);
    for (let index = 0; index < 3000; index++) {
      const bytes = randomBytes(random(400));
      if (index % 2 === 0 && bytes.length > 3) bytes[0] = 0x80; // half of them claim to be v0 messages
      expect(attempt(bytes, `random-${index}`)).toBeUndefined();
    }
  });

  it('signs mutated messages only in an allowed shape, and what runs moves what was counted', () => {
    const random = prng(2025);
    let signedCount = 0;
    let executed = 0;
    for (let index = 0; index < 3000; index++) {
      const seed = seeds[random(seeds.length)]!;
      const bytes = mutate(seed, random);
      const signed = attempt(bytes, `mutated-${index}`);
      if (signed === undefined) continue;
      signedCount++;
      independentCheck(bytes, wallet, signed);
      if (signed.transfer?.route !== 'spending-limit') continue;
      const message = VersionedMessage.deserialize(bytes);
      if (!message.staticAccountKeys[0]!.equals(h.chain.feePayer.publicKey)) continue;
      const transaction = new VersionedTransaction(message);
      const vaultBefore = h.chain.balance(wallet.chain.vault);
      const sent = h.chain.send(
        transaction,
        [h.chain.feePayer],
        [{ publicKey: wallet.agent, signature: signed.signature }],
      );
      const moved = vaultBefore - h.chain.balance(wallet.chain.vault);
      if (sent.ok) {
        executed++;
        expect(moved).toBe(signed.transfer.amount);
      } else {
        expect(moved).toBe(0n);
      }
    }
    // The property was exercised, not vacuously true.
    expect(signedCount).toBeGreaterThan(20);
    expect(executed).toBeGreaterThan(5);
  });
});
