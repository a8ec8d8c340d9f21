import type { LiteSvm } from 'litesvm/dist/internal.js';
import { deployedSquadsSha256, deploySquads, ensureSquadsProgramConfig } from './genesis.ts';
import { SQUADS_V4_SHA256, type SquadsBinary } from './squads-program.ts';

export interface SquadsStatus {
  status: 'loaded' | 'missing';
  /** The binary file checked (also when missing). */
  path?: string;
  /** One sentence saying how to get the binary, when missing. */
  fix?: string;
  sha256?: string;
  /** Where the deployed program came from: the binary file now, or the saved ledger. */
  source?: 'file' | 'snapshot';
}

/**
 * Makes the chain run the pinned Squads program when it can: (re)deploys it from a verified binary
 * if the ledger does not already hold exactly that program, and writes the ProgramConfig account.
 * Returns whether the chain changed.
 */
export function deploySquadsIfNeeded(
  svm: LiteSvm,
  binary: SquadsBinary,
): { squads: SquadsStatus; changed: boolean } {
  const deployed = deployedSquadsSha256(svm);
  let changed = false;
  if (binary.status === 'found') {
    if (deployed !== binary.sha256) {
      deploySquads(svm, binary.bytes);
      changed = true;
    }
  } else if (deployed !== SQUADS_V4_SHA256) {
    return { squads: { status: 'missing', path: binary.path, fix: binary.fix }, changed };
  }
  changed = ensureSquadsProgramConfig(svm) || changed;
  return {
    squads: {
      status: 'loaded',
      path: binary.path,
      sha256: SQUADS_V4_SHA256,
      source: binary.status === 'found' ? 'file' : 'snapshot',
    },
    changed,
  };
}
