import { randomBytes } from 'node:crypto';
import { PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import bs58 from 'bs58';
import { Account, EpochSchedule, LiteSvm } from 'litesvm/dist/internal.js';
import { SLOTS_PER_EPOCH } from './chain/clock.ts';
import { fundFaucet } from './chain/faucet.ts';
import { squadsConfigAuthorityKey, squadsTreasuryKey } from './localnet-keys.ts';
import { SQUADS_PROGRAM_ID, sha256Hex } from './squads-program.ts';
import { programDataAddressOf, programDataPayload } from './upgradeable-loader.ts';

export const SQUADS_PROGRAM_CONFIG_AUTHORITY = squadsConfigAuthorityKey.address;
export const SQUADS_PROGRAM_CONFIG_TREASURY = squadsTreasuryKey.address;

const squadsProgramId = new PublicKey(SQUADS_PROGRAM_ID);

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
  const program = svm.getAccount(squadsProgramId.toBytes());
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
  svm.addProgram(squadsProgramId.toBytes(), bytes);
}

export const squadsProgramConfigAddress = (): PublicKey =>
  multisig.getProgramConfigPda({ programId: squadsProgramId })[0];

/** The ProgramConfig account multisigCreateV2 requires: fixed authority and treasury, no creation fee. */
export function ensureSquadsProgramConfig(svm: LiteSvm): boolean {
  const address = squadsProgramConfigAddress().toBytes();
  if (svm.getAccount(address)) return false;
  const [data] = multisig.accounts.ProgramConfig.fromArgs({
    authority: new PublicKey(squadsConfigAuthorityKey.publicKey),
    multisigCreationFee: 0,
    treasury: new PublicKey(squadsTreasuryKey.publicKey),
    reserved: new Array(64).fill(0),
  }).serialize();
  const lamports = svm.minimumBalanceForRentExemption(BigInt(data.length));
  svm.setAccount(address, new Account(lamports, data, squadsProgramId.toBytes(), false, 0n));
  return true;
}
