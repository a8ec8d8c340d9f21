import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { address, getTransactionDecoder, lamports } from '@solana/kit';
import {
  Keypair,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import { FailedTransactionMetadata, LiteSVM } from 'litesvm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Address } from '../../src/core/address.ts';
import { privateKeyFromSeed, signEd25519 } from '../../src/keys/ed25519.ts';
import { createOwnerSigner, provisionOwnerKey } from '../../src/keys/owner-signer.ts';
import {
  emptySignatureSlots,
  requiredSigners,
  signWeb3Transaction,
  signWireTransaction,
} from '../../src/keys/sign-transaction.ts';
import { withSignatureCheck } from '../../src/keys/signature-check.ts';
import type { OwnerKey, OwnerSigner } from '../../src/keys/types.ts';
import { startTestKms, type TestKms } from '../support/kms-server.ts';
import { BASE_CREDENTIALS, expectCode } from './support.ts';

const PASSPHRASE = 'owner passphrase 1';
const SOL = 1_000_000_000n;
const decodeTransaction = getTransactionDecoder();

let kms: TestKms;
let svm: LiteSVM;
const feePayer = Keypair.generate();
const signers: Record<'local' | 'aws-kms', { key: OwnerKey; address: Address }> = {} as never;

const balance = (account: PublicKey | string) => svm.getBalance(address(account.toString())) ?? 0n;

/** Sends wire bytes to the chain; LiteSVM takes @solana/kit transactions. */
const submit = (wire: Uint8Array) => svm.sendTransaction(decodeTransaction.decode(wire));

const transfer = (from: Address, to: PublicKey, amount: bigint) =>
  SystemProgram.transfer({ fromPubkey: new PublicKey(from), toPubkey: to, lamports: amount });

/** The owner pays out of its own account while someone else pays the fee: the owner signs slot 1. */
const legacyTransfer = (owner: Address, to: PublicKey, amount: bigint) => {
  const tx = new Transaction({ feePayer: feePayer.publicKey, recentBlockhash: svm.latestBlockhash() });
  tx.add(transfer(owner, to, amount));
  return tx;
};

beforeAll(async () => {
  kms = await startTestKms();
  const dir = await mkdtemp(join(tmpdir(), 'waiaas-sign-tx-'));
  const local = await provisionOwnerKey(
    { kind: 'local', keystorePath: join(dir, 'owner.json'), passphrase: PASSPHRASE },
    { insecureKdfForTests: true },
  );
  const remote = await provisionOwnerKey(
    { kind: 'aws-kms', region: kms.region, endpoint: kms.endpoint },
    { credentials: BASE_CREDENTIALS },
  );
  signers.local = { key: createOwnerSigner(local.config), address: local.publicKey };
  signers['aws-kms'] = {
    key: createOwnerSigner(remote.config, { credentials: BASE_CREDENTIALS }),
    address: remote.publicKey,
  };
  await signers.local.key.unlockFor(600, PASSPHRASE);
});

afterAll(async () => {
  await signers.local.key.close();
  await signers['aws-kms'].key.close();
  await kms.close();
});

beforeEach(() => {
  svm = new LiteSVM();
  svm.airdrop(address(feePayer.publicKey.toBase58()), lamports(10n * SOL));
  for (const { address: owner } of Object.values(signers)) svm.airdrop(address(owner), lamports(5n * SOL));
});

describe.each(['local', 'aws-kms'] as const)('a Solana transaction signed by the %s owner key', (kind) => {
  it('is accepted by the chain and moves funds (legacy message, owner in slot 1)', async () => {
    const { key, address: owner } = signers[kind];
    const recipient = Keypair.generate().publicKey;
    const tx = legacyTransfer(owner, recipient, 2n * SOL);
    tx.partialSign(feePayer);
    await signWeb3Transaction(key, tx);
    expect(tx.signatures.map((pair) => pair.publicKey.toBase58())).toEqual([
      feePayer.publicKey.toBase58(),
      owner,
    ]);

    const result = submit(tx.serialize());
    expect(result).not.toBeInstanceOf(FailedTransactionMetadata);
    expect(balance(recipient)).toBe(2n * SOL);
    expect(balance(owner)).toBe(3n * SOL);
  });

  it('is accepted as a v0 VersionedTransaction and as raw wire bytes', async () => {
    const { key, address: owner } = signers[kind];
    const recipient = Keypair.generate().publicKey;
    const message = new TransactionMessage({
      payerKey: feePayer.publicKey,
      recentBlockhash: svm.latestBlockhash(),
      instructions: [transfer(owner, recipient, SOL)],
    }).compileToV0Message();
    const versioned = new VersionedTransaction(message);
    versioned.sign([feePayer]);
    await signWeb3Transaction(key, versioned);
    expect(submit(versioned.serialize())).not.toBeInstanceOf(FailedTransactionMetadata);

    // Raw path: only the message bytes are known; the owner signs first, the fee payer after.
    svm.expireBlockhash();
    const raw = legacyTransfer(owner, recipient, SOL);
    const messageBytes = raw.serializeMessage();
    expect(requiredSigners(messageBytes)).toEqual([feePayer.publicKey.toBase58(), owner]);
    const ownerSigned = await signWireTransaction(key, emptySignatureSlots(messageBytes));
    const payerSigned = await signWireTransaction(
      withSignatureCheck({
        publicKey: async () => feePayer.publicKey.toBase58() as Address,
        sign: async (bytes) => {
          const copy = legacyTransfer(owner, recipient, SOL);
          copy.recentBlockhash = raw.recentBlockhash;
          copy.sign(feePayer);
          expect(Buffer.from(copy.serializeMessage())).toEqual(Buffer.from(bytes));
          return copy.signatures[0]!.signature!;
        },
      }),
      ownerSigned,
    );
    expect(submit(payerSigned)).not.toBeInstanceOf(FailedTransactionMetadata);
    expect(balance(recipient)).toBe(2n * SOL);
  });
});

describe('signature checks before anything is sent', () => {
  it('a signer whose signature does not verify is refused with SIGNATURE_INVALID and the slot stays empty', async () => {
    const { key, address: owner } = signers.local;
    const impostor = privateKeyFromSeed(Keypair.generate().secretKey.subarray(0, 32));
    const broken: OwnerSigner = {
      publicKey: () => key.publicKey(),
      // A real Ed25519 signature, but by another key than the one it claims.
      sign: async (message) => signEd25519(impostor, message),
    };
    const recipient = Keypair.generate().publicKey;
    const tx = legacyTransfer(owner, recipient, SOL);
    tx.partialSign(feePayer);
    await expectCode(signWeb3Transaction(broken, tx), 'SIGNATURE_INVALID');
    expect(tx.signatures[1]?.signature).toBeNull();
    await expectCode(withSignatureCheck(broken).sign(new Uint8Array([1, 2, 3])), 'SIGNATURE_INVALID');
    // Had it been placed, the chain would have refused it too: LiteSVM verifies signatures.
    tx.signatures[1]!.signature = Buffer.from(await broken.sign(tx.serializeMessage()));
    expect(submit(tx.serialize({ verifySignatures: false }))).toBeInstanceOf(FailedTransactionMetadata);
    expect(balance(recipient)).toBe(0n);
  });

  it('refuses to sign a transaction the owner key is not a signer of', async () => {
    const stranger = Keypair.generate();
    svm.airdrop(address(stranger.publicKey.toBase58()), lamports(SOL));
    const tx = legacyTransfer(stranger.publicKey.toBase58() as Address, Keypair.generate().publicKey, 1000n);
    await expectCode(signWeb3Transaction(signers['aws-kms'].key, tx), 'VALIDATION_FAILED');
  });
});
