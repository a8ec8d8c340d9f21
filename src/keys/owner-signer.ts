import type { Address } from '../core/address.ts';
import type { AwsDeps } from './aws/connection.ts';
import type { AwsKmsOwnerKeyConfig, AwsKmsOwnerKeySpec } from './aws/kms-owner-key.ts';
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

// The AWS SDK (tens of modules, megabytes of heap) is loaded only by a daemon that has an aws-kms owner,
// the first time that owner's key is used.
const loadAwsKmsOwnerKey = () => import('./aws/kms-owner-key.ts');

/** An OwnerKey whose backend module is loaded on first use; until then it holds nothing to lock. */
const lazyOwnerKey = (
  kind: OwnerKey['kind'],
  load: () => Promise<OwnerKey>,
  protectionBeforeUse: OwnerKeyProtection,
): OwnerKey => {
  let loading: Promise<OwnerKey> | undefined;
  let loaded: OwnerKey | undefined;
  const key = () => {
    loading ??= load().then(
      (made) => {
        loaded = made;
        return made;
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };
  return {
    kind,
    publicKey: async () => (await key()).publicKey(),
    sign: async (message, unlock) => (await key()).sign(message, unlock),
    withUnlock: async (unlock, act) => (await key()).withUnlock(unlock, act),
    unlockFor: async (seconds, unlock) => (await key()).unlockFor(seconds, unlock),
    lock: () => loaded?.lock(),
    protection: () => loaded?.protection() ?? protectionBeforeUse,
    close: async () => {
      await loaded?.close();
    },
  };
};

/** The owner key described by a stored config. Nothing is read or called until it is used. */
export const createOwnerSigner = (config: OwnerSignerConfig, deps: OwnerSignerDeps = {}): OwnerKey =>
  config.kind === 'local'
    ? createLocalOwnerKey(config, deps)
    : lazyOwnerKey(
        'aws-kms',
        async () => (await loadAwsKmsOwnerKey()).createAwsKmsOwnerKey(config, deps, deps),
        { kind: 'aws-kms', secondFactor: config.mfaSerial === undefined ? 'none' : 'mfa' },
      );

/** Creates the key (new keystore, or a KMS key unless one is named) and returns the config to store. */
export const provisionOwnerKey = async (
  spec: OwnerKeySpec,
  deps: OwnerSignerDeps = {},
): Promise<{ config: OwnerSignerConfig; publicKey: Address }> => {
  if (spec.kind === 'local') return provisionLocalOwnerKey(spec, deps);
  const { kind: _kind, ...awsSpec } = spec;
  const { config, publicKey } = await (await loadAwsKmsOwnerKey()).provisionAwsKmsOwnerKey(awsSpec, deps);
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
