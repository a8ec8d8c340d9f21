/**
 * The spend message template: patched copies must be byte for byte what the Squads builders make for
 * the same transfer (SOL and a token), or the enclave would be signing something else than intended.
 */
import { Keypair, PublicKey } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import { SpendTemplates } from '../../src/daemon/transfers/spend-templates.ts';
import { requiredSigners } from '../../src/keys/sign-transaction.ts';
import { buildAgentTransfer, multisigAddress, type TransferAsset } from '../../src/squads/index.ts';

const blockhash = () => Keypair.generate().publicKey.toBase58();

describe('spend message templates', () => {
  const multisig = multisigAddress(Keypair.generate().publicKey);
  const agent = Keypair.generate().publicKey;
  const feePayer = Keypair.generate().publicKey;
  const destination = Keypair.generate().publicKey.toBase58();
  const token: TransferAsset = { mint: Keypair.generate().publicKey, decimals: 6 };

  const reference = (asset: TransferAsset, amount: bigint, unitLimit: number, hash: string, to: PublicKey) =>
    buildAgentTransfer({
      multisig,
      agent,
      asset,
      amount,
      destination: to,
      feePayer,
      recentBlockhash: hash,
      computeBudget: { unitLimit },
    }).message.serialize();

  it('copies equal the builders’ own message for every amount, limit and blockhash, SOL and token', () => {
    const templates = new SpendTemplates();
    for (const asset of ['SOL', token] as TransferAsset[]) {
      for (const [amount, unitLimit] of [
        [1n, 40_000],
        [123_456_789n, 59_999],
        [2n ** 63n - 1n, 120_000],
      ] as const) {
        const hash = blockhash();
        const { message, signers } = templates.message({
          walletKey: 'wallet|agent',
          multisig,
          agent,
          asset,
          destination,
          feePayer,
          amount,
          unitLimit,
          blockhash: hash,
        });
        const elsewhere = reference(asset, amount, unitLimit, hash, Keypair.generate().publicKey);
        expect(Buffer.from(message).equals(Buffer.from(elsewhere))).toBe(false);
        const same = reference(asset, amount, unitLimit, hash, new PublicKey(destination));
        expect(Buffer.from(message).toString('hex')).toBe(Buffer.from(same).toString('hex'));
        expect(signers).toEqual(requiredSigners(same));
        expect(signers[0]).toBe(feePayer.toBase58());
      }
    }
  });
});
