/**
 * The operator's enclave commands: `waiaas enclave measure` prints the PCR0 the daemon pins (this
 * checkout's development measurement, or a Nitro image's from nitro-cli's JSON) and
 * `waiaas kms-policy owner|seal` prints the key policies WAIaaS relies on.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as measure, nitroMeasurements } from '../../src/cli/commands/enclave-measure.ts';
import { run as kmsPolicy } from '../../src/cli/commands/kms-policy.ts';
import { enclaveCodeBundle } from '../../src/enclave/code-bundle.ts';
import { ownerKeyPolicy, sealKeyPolicy } from '../../src/keys/aws/key-policies.ts';
import { tempDir } from './helpers/fixtures.ts';

const printed = () => {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    lines.push(String(line));
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return lines;
};

const PCR0 = 'ab'.repeat(48);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('waiaas enclave measure', () => {
  it('prints the development PCR0 of the enclave code in this checkout', async () => {
    const lines = printed();
    expect(await measure(['--json'])).toBe(0);
    expect(JSON.parse(lines[0]!)).toEqual({
      isolation: 'process',
      pcr0: createHash('sha384').update(enclaveCodeBundle()).digest('hex'),
    });
  });

  it('reads a Nitro image’s PCR0 from nitro-cli’s output and prints the line to pin it', async () => {
    const file = join(tempDir(), 'build-enclave.json');
    writeFileSync(
      file,
      JSON.stringify({
        Measurements: {
          HashAlgorithm: 'Sha384 { ... }',
          PCR0: PCR0.toUpperCase(),
          PCR1: 'cd'.repeat(48),
          PCR2: 'ef'.repeat(48),
        },
      }),
    );
    const lines = printed();
    expect(await measure(['--nitro', file])).toBe(0);
    expect(lines).toContain(`  enclave_pcr0 = "${PCR0}"`);
    expect(() => nitroMeasurements('{"Measurements":{"PCR0":"zz"}}')).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});

describe('waiaas kms-policy', () => {
  it('prints the owner key policy and the seal key policy as documents', async () => {
    let lines = printed();
    expect(await kmsPolicy(['owner', '--account', '111122223333'])).toBe(0);
    expect(JSON.parse(lines.join('\n'))).toEqual(ownerKeyPolicy({ accountId: '111122223333' }));
    vi.restoreAllMocks();
    lines = printed();
    const role = 'arn:aws:iam::111122223333:role/waiaas-parent';
    expect(
      await kmsPolicy(['seal', '--account', '111122223333', '--parent-role', role, '--pcr0', PCR0]),
    ).toBe(0);
    expect(JSON.parse(lines.join('\n'))).toEqual(
      sealKeyPolicy({ accountId: '111122223333', parentRoleArn: role, imageSha384: PCR0 }),
    );
  });

  it('refuses what it cannot make a policy of', async () => {
    printed();
    expect(await kmsPolicy(['seal', '--account', '111122223333'])).toBe(2);
    await expect(
      kmsPolicy([
        'seal',
        '--account',
        '1',
        '--parent-role',
        'arn:aws:iam::111122223333:role/r',
        '--pcr0',
        PCR0,
      ]),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'accountId' } });
    await expect(
      kmsPolicy([
        'seal',
        '--account',
        '111122223333',
        '--parent-role',
        'arn:aws:iam::111122223333:role/r',
        '--pcr0',
        'ab',
      ]),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'imageSha384' } });
  });
});
