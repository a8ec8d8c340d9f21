/** The enclave's configuration keys: process by default; nitro only with the measurement it pins. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/daemon/config.ts';

const freshDir = () => mkdtempSync(join(tmpdir(), 'waiaas-enclave-config-'));
const PCR0 = 'AB'.repeat(48);

const refusal = (env: NodeJS.ProcessEnv): ConfigError => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('enclave configuration', () => {
  it('defaults to the process mode with the enclave’s own key', () => {
    expect(loadConfig({ WAIAAS_DATA_DIR: freshDir() }).enclave).toMatchObject({
      isolation: 'process',
      vault: 'local',
      pcr0: undefined,
      vsockCid: 16,
      vsockPort: 5000,
    });
  });

  it('takes nitro with its pinned measurement from config.toml', () => {
    const dataDir = freshDir();
    writeFileSync(
      join(dataDir, 'config.toml'),
      `enclave_isolation = "nitro"\nenclave_pcr0 = "${PCR0}"\nenclave_vsock_cid = 21\nenclave_kms_region = "eu-west-1"\n`,
    );
    expect(loadConfig({ WAIAAS_DATA_DIR: dataDir }).enclave).toMatchObject({
      isolation: 'nitro',
      pcr0: PCR0.toLowerCase(),
      vsockCid: 21,
      kmsRegion: 'eu-west-1',
    });
  });

  it('refuses nitro without a measurement, a bad measurement, and a KMS vault without its key', () => {
    const dataDir = freshDir();
    const nitro = refusal({ WAIAAS_DATA_DIR: dataDir, WAIAAS_ENCLAVE_ISOLATION: 'nitro' });
    expect(nitro.key).toBe('WAIAAS_ENCLAVE_PCR0');
    expect(nitro.message).toContain('waiaas enclave measure');
    expect(refusal({ WAIAAS_DATA_DIR: dataDir, WAIAAS_ENCLAVE_PCR0: 'abc' }).key).toBe('WAIAAS_ENCLAVE_PCR0');
    expect(refusal({ WAIAAS_DATA_DIR: dataDir, WAIAAS_ENCLAVE_ISOLATION: 'sgx' }).message).toContain(
      'expected one of process, nitro',
    );
    expect(
      refusal({
        WAIAAS_DATA_DIR: dataDir,
        WAIAAS_ENCLAVE_VAULT: 'aws-kms',
        WAIAAS_ENCLAVE_KMS_REGION: 'us-east-1',
      }).key,
    ).toBe('WAIAAS_ENCLAVE_KMS_KEY_ID');
    expect(refusal({ WAIAAS_DATA_DIR: dataDir, WAIAAS_ENCLAVE_VSOCK_CID: '2' }).key).toBe(
      'WAIAAS_ENCLAVE_VSOCK_CID',
    );
  });
});
