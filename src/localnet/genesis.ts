import { createHash, randomBytes } from 'node:crypto';
import bs58 from 'bs58';
import { Account, EpochSchedule, LiteSvm } from 'litesvm/dist/internal.js';
import { SLOTS_PER_EPOCH } from './chain/clock.ts';
import { fundFaucet } from './chain/faucet.ts';
import { squadsConfigAuthorityKey, squadsTreasuryKey } from './localnet-keys.ts';
import { SQUADS_PROGRAM_ID, sha256Hex } from './squads-program.ts';
import { programDataAddressOf, programDataPayload } from './upgradeable-loader.ts';

export const SQUADS_PROGRAM_CONFIG_AUTHORITY = squadsConfigAuthorityKey.address;
export const SQUADS_PROGRAM_CONFIG_TREASURY = squadsTreasuryKey.address;

const squadsProgramId = bs58.decode(SQUADS_PROGRAM_ID);

/**
 * The Squads program's ProgramConfig address: the PDA of seeds "multisig", "program_config" under the
 * program id, fixed as the id is (test/localnet/genesis.test.ts derives it with @sqds/multisig). Written
 * out so the localnet process does not load the Squads SDK and web3.js (megabytes) for one account.
 */
const SQUADS_PROGRAM_CONFIG_ADDRESS = 'BSTq9w3kZwNwpBXJEvTZz2G9ZTNyKBvoSeXMvwb4cNZr';

/** Anchor's account discriminator: the first 8 bytes of sha256("account:<Name>"). */
const PROGRAM_CONFIG_DISCRIMINATOR = createHash('sha256')
  .update('account:ProgramConfig')
  .digest()
  .subarray(0, 8);

/** ProgramConfig { authority, multisig_creation_fee: u64, treasury, _reserved: [u8; 64] } after the discriminator. */
export function squadsProgramConfigData(
  authority: Uint8Array,
  creationFee: bigint,
  treasury: Uint8Array,
): Uint8Array {
  const data = new Uint8Array(8 + 32 + 8 + 32 + 64);
  data.set(PROGRAM_CONFIG_DISCRIMINATOR, 0);
  data.set(authority, 8);
  new DataView(data.buffer).setBigUint64(40, creationFee, true);
  data.set(treasury, 48);
  return data;
}

/** Settings LiteSVM does not keep in its snapshots, applied after creating or restoring one. */
export function configureSvm(svm: LiteSvm): LiteSvm {
  svm.setSigverify(true);
  // The localnet keeps its own blockhash window and status cache (see chain/).
  svm.setBlockhashCheck(false);
  svm.setTransactionHistory(0n);
  return svm;
}

/** A fresh chain: builtins, sysvars, precompiles and the SPL programs LiteSVM ships, plus a funded faucet. */
export function createGenesis(): { svm: LiteSvm; genesisHash: string } {
  const svm = configureSvm(new LiteSvm());
  svm.withNativeMints();
  svm.setEpochSchedule(new EpochSchedule(BigInt(SLOTS_PER_EPOCH), BigInt(SLOTS_PER_EPOCH), false, 0n, 0n));
  fundFaucet(svm);
  return { svm, genesisHash: bs58.encode(randomBytes(32)) };
}

/** sha256 of the Squads program's bytes as deployed in this chain, or null if it is not deployed. */
export function deployedSquadsSha256(svm: LiteSvm): string | null {
  const program = svm.getAccount(squadsProgramId);
  if (!program) return null;
  const programData = programDataAddressOf(program.data());
  if (!programData) return null;
  const payload = programDataPayload(svm.getAccount(programData)?.data() ?? new Uint8Array(0));
  return payload ? sha256Hex(payload) : null;
}

/**
 * Deploys the program under the upgradeable loader (program account + programdata account), the
 * layout a cluster has, so `programs fetch` can dump it back byte for byte.
 */
export function deploySquads(svm: LiteSvm, bytes: Uint8Array): void {
  svm.addProgram(squadsProgramId, bytes);
}

/** The ProgramConfig address, base58. */
export const squadsProgramConfigAddress = (): string => SQUADS_PROGRAM_CONFIG_ADDRESS;

/** The ProgramConfig account multisigCreateV2 requires: fixed authority and treasury, no creation fee. */
export function ensureSquadsProgramConfig(svm: LiteSvm): boolean {
  const address = bs58.decode(SQUADS_PROGRAM_CONFIG_ADDRESS);
  if (svm.getAccount(address)) return false;
  const data = squadsProgramConfigData(squadsConfigAuthorityKey.publicKey, 0n, squadsTreasuryKey.publicKey);
  const lamports = svm.minimumBalanceForRentExemption(BigInt(data.length));
  svm.setAccount(address, new Account(lamports, data, squadsProgramId, false, 0n));
  return true;
}
