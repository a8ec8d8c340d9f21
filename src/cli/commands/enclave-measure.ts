/**
 * `waiaas enclave measure [--nitro FILE] [--json]`: the enclave measurement (PCR0) the daemon pins.
 *   - without --nitro: the development measurement of this checkout's enclave code, SHA-384 of the
 *     code bundle (src/enclave/code-bundle.ts), which the daemon pins in process mode;
 *   - with --nitro FILE: PCR0 of the enclave image, read from the JSON that `nitro-cli build-enclave`
 *     (or `nitro-cli describe-eif`) printed, with the configuration line to pin it
 *     (`enclave_pcr0`) and the value the seal key policy needs (`waiaas kms-policy seal --pcr0`).
 * nitro-cli itself does not run here: it needs Docker and the Nitro CLI on an AWS parent instance
 * (see docs/deploy-aws.md).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WaiaasError } from '../../core/errors.ts';
import { enclaveCodeBundle } from '../../enclave/code-bundle.ts';

const PCR = /^[0-9a-f]{96}$/;

/** PCR0..2 from nitro-cli's build-enclave / describe-eif JSON (`{"Measurements": {"PCR0": …}}`). */
export const nitroMeasurements = (text: string): { pcr0: string; pcr1?: string; pcr2?: string } => {
  let measurements: Record<string, unknown> | undefined;
  try {
    measurements = (JSON.parse(text) as { Measurements?: Record<string, unknown> }).Measurements;
  } catch {
    measurements = undefined;
  }
  const pcr = (name: string) => {
    const value = measurements?.[name];
    return typeof value === 'string' && PCR.test(value.toLowerCase()) ? value.toLowerCase() : undefined;
  };
  const pcr0 = pcr('PCR0');
  if (pcr0 === undefined) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'No PCR0 in that file: give the JSON nitro-cli build-enclave or describe-eif printed',
      details: { field: 'nitro' },
    });
  }
  const pcr1 = pcr('PCR1');
  const pcr2 = pcr('PCR2');
  return { pcr0, ...(pcr1 ? { pcr1 } : {}), ...(pcr2 ? { pcr2 } : {}) };
};

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { nitro: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (values.nitro !== undefined) {
    const measured = nitroMeasurements(readFileSync(values.nitro, 'utf8'));
    if (values.json) {
      console.log(JSON.stringify({ isolation: 'nitro', ...measured }));
    } else {
      console.log(`PCR0 (image)  ${measured.pcr0}`);
      if (measured.pcr1) console.log(`PCR1 (kernel) ${measured.pcr1}`);
      if (measured.pcr2) console.log(`PCR2 (app)    ${measured.pcr2}`);
      console.log('');
      console.log('Pin it in the daemon (config.toml):');
      console.log(`  enclave_isolation = "nitro"`);
      console.log(`  enclave_pcr0 = "${measured.pcr0}"`);
      console.log('and in the seal key policy:');
      console.log(
        `  waiaas kms-policy seal --account ACCOUNT --parent-role ROLE_ARN --pcr0 ${measured.pcr0}`,
      );
    }
    return 0;
  }
  const pcr0 = createHash('sha384').update(enclaveCodeBundle()).digest('hex');
  if (values.json) console.log(JSON.stringify({ isolation: 'process', pcr0 }));
  else {
    console.log(`PCR0 (development: SHA-384 of the enclave code in this checkout)  ${pcr0}`);
    console.log(
      'The daemon pins it by itself in process mode. For a Nitro image: waiaas enclave measure --nitro FILE',
    );
  }
  return 0;
}
