/**
 * Creating an owner: its Owner Key (a local keystore in the data directory, or an AWS KMS key), its
 * token (returned once, stored hashed) and the `owner.created` audit entry, in one transaction. The
 * API route (POST /v1/owners) and `waiaas owner create` without a running daemon both come here.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateToken, hashToken } from '../../core/tokens.ts';
import { type OwnerKeySpec, type OwnerSignerConfig, provisionOwnerKey } from '../../keys/index.ts';
import { insertOwner, type Store } from '../../store/index.ts';
import { appendAudit } from '../audit/index.ts';

export type NewOwnerSigner =
  | { kind: 'local'; passphrase: string }
  | {
      kind: 'aws-kms';
      region: string;
      keyId?: string | undefined;
      endpoint?: string | undefined;
      mfaSerial?: string | undefined;
      stsEndpoint?: string | undefined;
    };

export interface CreateOwnerParams {
  readonly name: string;
  readonly signer: NewOwnerSigner;
}

export interface CreatedOwner {
  readonly id: string;
  /** Shown once; only its hash is kept. */
  readonly token: string;
  readonly publicKey: string;
  readonly signer: OwnerSignerConfig;
}

export async function createOwner(
  store: Store,
  dataDir: string,
  params: CreateOwnerParams,
): Promise<CreatedOwner> {
  const id = `own_${randomBytes(9).toString('base64url')}`;
  const { signer } = params;
  let spec: OwnerKeySpec;
  if (signer.kind === 'local') {
    const keysDir = join(dataDir, 'keys');
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    spec = { kind: 'local', keystorePath: join(keysDir, `owner-${id}.json`), passphrase: signer.passphrase };
  } else {
    spec = {
      kind: 'aws-kms',
      region: signer.region,
      ...(signer.keyId ? { keyId: signer.keyId } : {}),
      ...(signer.endpoint ? { endpoint: signer.endpoint } : {}),
      ...(signer.mfaSerial ? { mfaSerial: signer.mfaSerial } : {}),
      ...(signer.stsEndpoint ? { stsEndpoint: signer.stsEndpoint } : {}),
    };
  }
  const { config, publicKey } = await provisionOwnerKey(spec);
  const token = generateToken('waiaas_own_');
  await store.writeTransaction(async (trx) => {
    await insertOwner(trx, { id, name: params.name, signer: config, publicKey, tokenHash: hashToken(token) });
    await appendAudit(trx, {
      kind: 'owner.created',
      actor: { role: 'operator' },
      ownerId: id,
      subject: id,
      details: { signer: config.kind, publicKey },
    });
  });
  return { id, token, publicKey, signer: config };
}
