import type { Address } from '../core/address.ts';
import type { AwsDeps } from './aws/connection.ts';
import {
  type AwsKmsOwnerKeyConfig,
  type AwsKmsOwnerKeySpec,
  createAwsKmsOwnerKey,
  provisionAwsKmsOwnerKey,
} from './aws/kms-owner-key.ts';
import type { KeystoreWriteOptions } from './keystore.ts';
import { createLocalOwnerKey, type LocalOwnerKeyConfig, provisionLocalOwnerKey } from './local-owner-key.ts';
import type { OwnerKeyOptions } from './owner-key.ts';
import type { OwnerKey, OwnerKeyProtection } from './types.ts';

/** What the daemon stores per owner to reach its key (no secret in it). */
export type OwnerSignerConfig = LocalOwnerKeyConfig | AwsKmsOwnerKeyConfig;

/** What `waiaas owner create` / `POST /v1/owners` asks for. The passphrase is never stored. */
export type OwnerKeySpec =
  | { kind: 'local'; keystorePath: string; passphrase: string }
  | ({ kind: 'aws-kms' } & AwsKmsOwnerKeySpec);

export type OwnerSignerDeps = AwsDeps & OwnerKeyOptions & KeystoreWriteOptions;

/** The owner key described by a stored config. Nothing is read or called until it is used. */
export const createOwnerSigner = (config: OwnerSignerConfig, deps: OwnerSignerDeps = {}): OwnerKey =>
  config.kind === 'local' ? createLocalOwnerKey(config, deps) : createAwsKmsOwnerKey(config, deps, deps);

/** Creates the key (new keystore, or a KMS key unless one is named) and returns the config to store. */
export const provisionOwnerKey = async (
  spec: OwnerKeySpec,
  deps: OwnerSignerDeps = {},
): Promise<{ config: OwnerSignerConfig; publicKey: Address }> => {
  if (spec.kind === 'local') return provisionLocalOwnerKey(spec, deps);
  const { kind: _kind, ...awsSpec } = spec;
  const { config, publicKey } = await provisionAwsKmsOwnerKey(awsSpec, deps);
  return { config, publicKey };
};

export interface OwnerKeyDescription {
  kind: OwnerSignerConfig['kind'];
  publicKey: Address;
  protection: OwnerKeyProtection;
  keystorePath?: string;
  keyId?: string;
  region?: string;
}

/** `waiaas owner show`: the public key and how the key is protected. */
export const describeOwnerKey = async (
  config: OwnerSignerConfig,
  deps: OwnerSignerDeps = {},
): Promise<OwnerKeyDescription> => {
  const key = createOwnerSigner(config, deps);
  try {
    const publicKey = await key.publicKey();
    const where =
      config.kind === 'local'
        ? { keystorePath: config.keystorePath }
        : { keyId: config.keyId, region: config.region };
    return { kind: config.kind, publicKey, protection: key.protection(), ...where };
  } finally {
    await key.close();
  }
};
