import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SendTransactionError,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import {
  fetchProgramBinary,
  type Localnet,
  SQUADS_PROGRAM_CONFIG_AUTHORITY,
  SQUADS_PROGRAM_CONFIG_TREASURY,
  SQUADS_PROGRAM_ID,
  SQUADS_V4_SHA256,
  startLocalnet,
} from '../../src/localnet/index.ts';
import { sha256Hex } from '../../src/localnet/squads-program.ts';
import { describeWithSquads, squadsBinaryPath } from '../support/squads-binary.ts';

const temporaryDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

describeWithSquads('localnet running the real Squads v4 program', () => {
  let localnet: Localnet;
  let connection: Connection;

  beforeAll(async () => {
    localnet = await startLocalnet({
      dataDir: tempDir('waiaas-localnet-squads-'),
      port: 0,
    });
    connection = new Connection(localnet.rpcUrl, 'confirmed');
  });
  afterAll(async () => {
    await localnet?.close();
  });

  async function funded(): Promise<Keypair> {
    const keypair = Keypair.generate();
    const signature = await connection.requestAirdrop(keypair.publicKey, 10 * LAMPORTS_PER_SOL);
    await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
    return keypair;
  }

  it('reports the program loaded from the verified binary, with its ProgramConfig', async () => {
    expect(localnet.squads).toMatchObject({
      status: 'loaded',
      path: squadsBinaryPath,
      sha256: SQUADS_V4_SHA256,
    });
    const program = await connection.getAccountInfo(new PublicKey(SQUADS_PROGRAM_ID));
    expect(program?.executable).toBe(true);
    const [configPda] = multisig.getProgramConfigPda({});
    const config = await multisig.accounts.ProgramConfig.fromAccountAddress(connection, configPda);
    expect(config.treasury.toBase58()).toBe(SQUADS_PROGRAM_CONFIG_TREASURY);
    expect(config.authority.toBase58()).toBe(SQUADS_PROGRAM_CONFIG_AUTHORITY);
    expect(Number(config.multisigCreationFee)).toBe(0);
  });

  it('executes multisigCreateV2 from @sqds/multisig and reads the account back with the SDK', async () => {
    const creator = await funded();
    const agent = Keypair.generate().publicKey;
    const createKey = Keypair.generate();
    const [multisigPda] = multisig.getMultisigPda({ createKey: createKey.publicKey });
    const { Permission, Permissions } = multisig.types;
    const signature = await multisig.rpc.multisigCreateV2({
      connection,
      treasury: new PublicKey(SQUADS_PROGRAM_CONFIG_TREASURY),
      createKey,
      creator,
      multisigPda,
      configAuthority: creator.publicKey,
      threshold: 2,
      members: [
        { key: creator.publicKey, permissions: Permissions.all() },
        { key: agent, permissions: Permissions.fromPermissions([Permission.Initiate, Permission.Vote]) },
      ],
      timeLock: 0,
      rentCollector: null,
    });
    await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });

    const account = await multisig.accounts.Multisig.fromAccountAddress(connection, multisigPda);
    expect(account.threshold).toBe(2);
    expect(account.configAuthority.toBase58()).toBe(creator.publicKey.toBase58());
    expect(account.members.map((member) => [member.key.toBase58(), member.permissions.mask]).sort()).toEqual(
      [
        [creator.publicKey.toBase58(), 7],
        [agent.toBase58(), 3],
      ].sort(),
    );
    const recorded = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
    expect(recorded?.meta?.logMessages).toContain(`Program ${SQUADS_PROGRAM_ID} success`);
    expect(recorded?.meta?.computeUnitsConsumed).toBeGreaterThan(5_000);
  });

  it("shows the program's own error code and logs when an instruction fails", async () => {
    const creator = await funded();
    const createKey = Keypair.generate();
    const [multisigPda] = multisig.getMultisigPda({ createKey: createKey.publicKey });
    const args = {
      treasury: new PublicKey(SQUADS_PROGRAM_CONFIG_TREASURY),
      creator: creator.publicKey,
      createKey: createKey.publicKey,
      multisigPda,
      configAuthority: null,
      threshold: 2, // more than the single voting member
      members: [{ key: creator.publicKey, permissions: multisig.types.Permissions.all() }],
      timeLock: 0,
      rentCollector: null,
    };

    // Plain web3.js: the preflight failure carries the program logs and the custom code.
    const message = new TransactionMessage({
      payerKey: creator.publicKey,
      recentBlockhash: (await connection.getLatestBlockhash()).blockhash,
      instructions: [multisig.instructions.multisigCreateV2(args)],
    }).compileToV0Message();
    const tx = new VersionedTransaction(message);
    tx.sign([creator, createKey]);
    const error = await connection.sendTransaction(tx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendTransactionError);
    const sendError = error as SendTransactionError;
    expect(sendError.message).toContain('Error processing Instruction 0: custom program error: 0x1773');
    expect(sendError.logs?.join('\n')).toContain('Error Code: InvalidThreshold. Error Number: 6003');

    // The Squads SDK decodes the same response into its named error.
    const sdkError = await multisig.rpc
      .multisigCreateV2({ connection, ...args, creator, createKey })
      .catch((e: unknown) => e);
    expect((sdkError as Error).name).toBe('InvalidThreshold');
    expect(await connection.getAccountInfo(multisigPda)).toBeNull();
  });

  it('lets `programs fetch` dump the program back from this localnet with the pinned hash', async () => {
    const outPath = join(tempDir('waiaas-fetch-'), 'programs', 'squads_v4.so');
    const fetched = await fetchProgramBinary({ rpcUrl: localnet.rpcUrl, outPath });
    expect(fetched).toEqual({
      path: outPath,
      sha256: SQUADS_V4_SHA256,
      size: readFileSync(squadsBinaryPath!).length,
    });
    expect(sha256Hex(readFileSync(outPath))).toBe(SQUADS_V4_SHA256);
  });

  it('refuses to write a fetched program whose hash is not the pinned one', async () => {
    const outPath = join(tempDir('waiaas-fetch-'), 'squads_v4.so');
    const wrongPin = 'ab'.repeat(32);
    const error = await fetchProgramBinary({
      rpcUrl: localnet.rpcUrl,
      outPath,
      expectedSha256: wrongPin,
    }).catch((e: unknown) => e);
    expect(isWaiaasError(error, 'PROGRAM_HASH_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain(SQUADS_V4_SHA256); // what the cluster actually has
    expect((error as Error).message).toContain(wrongPin);
    expect(existsSync(outPath)).toBe(false);

    const notAProgram = await fetchProgramBinary({
      rpcUrl: localnet.rpcUrl,
      programId: Keypair.generate().publicKey.toBase58(),
      outPath,
    }).catch((e: unknown) => e);
    expect(isWaiaasError(notAProgram, 'PROGRAM_MISSING')).toBe(true);
    expect(existsSync(outPath)).toBe(false);
  });
});
