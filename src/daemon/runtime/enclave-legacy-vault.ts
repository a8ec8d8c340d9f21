/**
 * Moving off the vault the daemon used to hold. Before the enclave kept its own key, its local vault
 * was `keys/enclave-vault.keystore`, opened with the daemon secret: a copy of the data directory
 * opened every agent seed. On the first start of this version the daemon starts the enclave with
 * that keystore and, on its stdin only, its passphrase; the enclave re-seals every stored agent seed
 * (and its journal's state key) under its own key, the daemon stores the new sealed blobs in place
 * of the old ones, and deletes the old keystore. From then on the daemon holds nothing that opens a
 * seed. If any seed fails to re-seal, the old keystore is kept (those keys would be lost without it)
 * and the daemon says so in its log and the audit entry.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SealedAgentKey } from '../../enclave/agent-keys.ts';
import { sealedAgentKeySchema } from '../../enclave/protocol.ts';
import type { Store } from '../../store/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { EnclaveClient } from '../enclave-client.ts';

export const LEGACY_ENCLAVE_VAULT = 'enclave-vault.keystore';

export const legacyEnclaveVaultPath = (dataDir: string): string =>
  join(dataDir, 'keys', LEGACY_ENCLAVE_VAULT);

const parse = (text: string): SealedAgentKey | undefined => {
  try {
    const parsed = sealedAgentKeySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/** Re-seals what the legacy vault sealed, stores it and deletes the legacy keystore; no-op without one. */
export async function migrateLegacyEnclaveVault(deps: {
  readonly client: Pick<EnclaveClient, 'call'>;
  readonly store: Store;
  readonly keystorePath: string;
  readonly log?: (line: string) => void;
}): Promise<{ resealed: number; failed: number } | undefined> {
  const { store, keystorePath } = deps;
  if (!existsSync(keystorePath)) return undefined;
  const keyRows = await store.db.selectFrom('agent_keys').select(['public_key', 'sealed']).execute();
  const rotations = await store.db
    .selectFrom('owner_acts')
    .select(['id', 'detail'])
    .where('kind', '=', 'rotate_agent_key')
    .where('status', '=', 'pending')
    .execute();
  const keys = new Map<string, SealedAgentKey>();
  for (const row of keyRows) {
    const sealed = parse(row.sealed);
    if (sealed) keys.set(sealed.publicKey, sealed);
  }
  for (const row of rotations) {
    const sealed = parse(JSON.stringify((JSON.parse(row.detail) as { sealed?: unknown }).sealed ?? null));
    if (sealed) keys.set(sealed.publicKey, sealed);
  }
  const { resealed, failed } = await deps.client.call('MIGRATE_LEGACY_VAULT', { keys: [...keys.values()] });
  const byKey = new Map(resealed.map((record) => [record.publicKey, record]));
  await store.writeTransaction(async (trx) => {
    for (const record of resealed) {
      await trx
        .updateTable('agent_keys')
        .set({ sealed: JSON.stringify(record) })
        .where('public_key', '=', record.publicKey)
        .execute();
    }
    for (const row of rotations) {
      const detail = JSON.parse(row.detail) as { sealed?: { publicKey?: string } };
      const record = detail.sealed?.publicKey === undefined ? undefined : byKey.get(detail.sealed.publicKey);
      if (record === undefined) continue;
      await trx
        .updateTable('owner_acts')
        .set({ detail: JSON.stringify({ ...detail, sealed: record }) })
        .where('id', '=', row.id)
        .execute();
    }
    await appendAudit(trx, {
      kind: 'enclave.vault-migrated',
      actor: { role: 'system' },
      details: {
        resealed: resealed.length,
        failed: failed.map((item) => `${item.publicKey} ${item.code}`),
        legacyKeystore: failed.length === 0 ? 'deleted' : 'kept',
      },
    });
  });
  if (failed.length === 0) {
    unlinkSync(keystorePath);
    deps.log?.(
      `enclave: ${resealed.length} agent key(s) re-sealed under the enclave's own key; the daemon's old enclave vault (${keystorePath}) is deleted`,
    );
  } else {
    deps.log?.(
      `enclave: ${failed.length} agent key(s) did not re-seal (${failed.map((item) => `${item.publicKey} ${item.code}`).join(', ')}); ${keystorePath} is kept until they do`,
    );
  }
  return { resealed: resealed.length, failed: failed.length };
}
