/**
 * Halting the enclave for a wallet: the daemon's half of "halting is anyone's, resuming is the
 * owner's". The enclave stops signing for the wallet at once, journals it, and hands back the
 * wallet's checkpoint with the halt in it (stored by the checkpointer), so the halt survives a
 * restart and a recovery elsewhere. Only an owner-signed policy of a higher version lifts it (the
 * owner's freeze, resume or policy change all sign one).
 */
import type { OpResult } from '../../enclave/protocol.ts';
import type { Store } from '../../store/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { EnclaveRouter } from '../enclave-router.ts';
import type { EnclaveSupervisor } from '../enclave-supervisor.ts';

export interface HaltDeps {
  /** This replica's instance: halting every wallet halts the ones it serves. */
  readonly enclave: Pick<EnclaveSupervisor, 'use'>;
  /** One wallet is halted where it is served, whichever replica's instance that is. */
  readonly signers: Pick<EnclaveRouter, 'useFor'>;
  readonly store: Pick<Store, 'writeTransaction'>;
}

/** Halts `walletId` (every wallet when undefined) in the enclave and records it in the audit log. */
export async function haltInEnclave(
  deps: HaltDeps,
  walletId: string | undefined,
  reason: string,
): Promise<OpResult<'HALT'>> {
  const result =
    walletId === undefined
      ? await deps.enclave.use((client) => client.halt(undefined, reason))
      : await deps.signers.useFor(walletId, (client) => client.halt(walletId, reason));
  await recordHalts(deps.store, result, reason);
  return result;
}

/** One `enclave.halted` audit entry per wallet the halt changed. */
export async function recordHalts(
  store: Pick<Store, 'writeTransaction'>,
  result: OpResult<'HALT'>,
  reason: string,
): Promise<void> {
  const changed = result.halted.filter((halted) => !halted.unchanged);
  if (changed.length === 0) return;
  await store.writeTransaction(async (trx) => {
    for (const halted of changed) {
      await appendAudit(trx, {
        kind: 'enclave.halted',
        actor: { role: 'system' },
        walletId: halted.walletId,
        details: { reason, policyVersion: halted.policyVersion },
      });
    }
  });
}
