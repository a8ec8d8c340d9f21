/**
 * Group commit in the enclave's journal: the signatures answered for one read of the socket have their
 * records written in one go, and none of them leaves before that write; if it fails, none leaves.
 */
import { Keypair, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { describe, expect, it } from 'vitest';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import {
  encodeSignRequestFrame,
  FrameDecoder,
  RESPONSE_ERROR,
  RESPONSE_OK,
} from '../../src/enclave/protocol.ts';
import { type ByteConnection, serveConnection } from '../../src/enclave/server.ts';
import {
  FileStateStore,
  MemoryStateStore,
  type StateRecord,
  type StateStore,
} from '../../src/enclave/state-journal.ts';
import { spendingLimitAddress } from '../../src/solana/inspect/pda.ts';
import { createOwner, createTestVault, solPolicy, tempDir } from './helpers/fixtures.ts';

const owner = createOwner();
const alice = Keypair.generate().publicKey;

const setUpWallet = async (enclave: AgentEnclave, walletId: string) => {
  const multisigPda = Keypair.generate().publicKey;
  const sealed = await enclave.createAgentKey(walletId, owner.publicKey, multisigPda.toBase58());
  enclave.setPolicy(
    await owner.signPolicy(
      walletId,
      solPolicy({ recipients: { mode: 'allowlist', addresses: [alice.toBase58()] } }),
    ),
  );
  return (amount: number) =>
    new VersionedTransaction(
      new TransactionMessage({
        payerKey: Keypair.generate().publicKey,
        recentBlockhash: Keypair.generate().publicKey.toBase58(),
        instructions: [
          multisig.instructions.spendingLimitUse({
            multisigPda,
            member: new PublicKey(sealed.publicKey),
            spendingLimit: new PublicKey(spendingLimitAddress(multisigPda.toBytes(), 'SOL')),
            vaultIndex: 0,
            amount,
            decimals: 9,
            destination: alice,
          }),
        ],
      }).compileToV0Message(),
    ).message.serialize();
};

/** A connection that records what the server writes, and lets the test push bytes in. */
const fakeConnection = (onWrite: (chunk: Buffer) => void) => {
  let onData: ((chunk: Buffer) => void) | undefined;
  const connection: ByteConnection = {
    on(event: string, listener: (arg: never) => void) {
      if (event === 'data') onData = listener as (chunk: Buffer) => void;
      return connection;
    },
    write: (chunk: Buffer) => onWrite(chunk),
    end: () => undefined,
    destroy: () => undefined,
  } as ByteConnection;
  return { connection, push: (bytes: Buffer) => onData?.(bytes) };
};

const framesOf = (chunks: Buffer[]) => {
  const decoder = new FrameDecoder();
  return chunks
    .flatMap((chunk) => decoder.push(chunk))
    .flatMap((event) => ('frame' in event ? [event.frame] : []));
};

const signRecords = (records: StateRecord[], walletId: string) =>
  records.filter((record) => record.t === 'sign' && record.w === walletId).length;

describe('group commit', () => {
  it('journals every signature of one read before the answers leave, together', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    const enclave = AgentEnclave.create({ vault, store: await FileStateStore.open(dir, vault) });
    const spend = await setUpWallet(enclave, 'grouped');
    const journal = await FileStateStore.open(dir, vault); // reads the same file, as a restart would
    const seen: { frames: number; journaled: number }[] = [];
    const written: Buffer[] = [];
    const { connection, push } = fakeConnection((chunk) => {
      written.push(chunk);
      seen.push({ frames: framesOf([chunk]).length, journaled: signRecords(journal.load(), 'grouped') });
    });
    serveConnection(enclave, connection);

    expect(signRecords(journal.load(), 'grouped')).toBe(0);
    push(
      Buffer.concat(
        [1, 2, 3].map((id) =>
          encodeSignRequestFrame(id, {
            walletId: 'grouped',
            requestId: `r-${id}`,
            message: spend(1_000 * id),
          }),
        ),
      ),
    );
    // One write carrying all three signatures, made when all three spends were already on disk.
    expect(seen).toEqual([{ frames: 3, journaled: 3 }]);
    expect(framesOf(written).map((frame) => [frame.id, frame.kind])).toEqual([
      [1, RESPONSE_OK],
      [2, RESPONSE_OK],
      [3, RESPONSE_OK],
    ]);
    expect(enclave.usage('grouped').spent['SOL']).toBe('6000');
    journal.close();
    enclave.close();
  });

  it('sends no signature when the journal write fails', async () => {
    class FailingStore extends MemoryStateStore {
      override release(): void {
        throw new Error('no space left on device');
      }
    }
    const { vault } = await createTestVault();
    const store: StateStore = new FailingStore();
    const enclave = AgentEnclave.create({ vault, store });
    const spend = await setUpWallet(enclave, 'failing');
    const written: Buffer[] = [];
    const { connection, push } = fakeConnection((chunk) => written.push(chunk));
    serveConnection(enclave, connection);
    push(
      Buffer.concat(
        [7, 8].map((id) =>
          encodeSignRequestFrame(id, { walletId: 'failing', requestId: `r-${id}`, message: spend(500 * id) }),
        ),
      ),
    );
    const frames = framesOf(written);
    expect(frames.map((frame) => [frame.id, frame.kind])).toEqual([
      [7, RESPONSE_ERROR],
      [8, RESPONSE_ERROR],
    ]);
    for (const frame of frames) expect(JSON.parse(frame.payload.toString()).code).toBe('INTERNAL');
    // Counted all the same: a spend that may have been made can only make the enclave stricter.
    expect(enclave.usage('failing').spent['SOL']).toBe('7500');
  });

  it('keeps held records in order, big ones included, across a compaction in between', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    const store = await FileStateStore.open(dir, vault);
    const sign = (at: number): StateRecord => ({ t: 'sign', w: 'w', at, asset: 'SOL', amount: String(at) });
    // Larger than the buffer kept for small appends, so it takes the other path.
    const bigPolicy: StateRecord = { t: 'policy', w: 'w', bundle: { padding: 'x'.repeat(10_000) } as never };
    store.hold();
    store.append([sign(1)]);
    store.append([bigPolicy]);
    store.append([sign(2)]);
    expect(store.load()).toEqual([]); // nothing written while held
    store.rewrite([sign(0)]);
    store.append([sign(3)]);
    store.release();
    store.close();
    const reopened = await FileStateStore.open(dir, vault);
    expect(reopened.load()).toEqual([sign(0), sign(3)]);
    reopened.close();

    const other = tempDir();
    const { vault: otherVault } = await createTestVault(other);
    const plain = await FileStateStore.open(other, otherVault);
    plain.hold();
    plain.append([sign(1)]);
    plain.append([bigPolicy]);
    plain.append([sign(2)]);
    plain.release();
    expect(plain.load()).toEqual([sign(1), bigPolicy, sign(2)]);
    plain.close();
  });
});
