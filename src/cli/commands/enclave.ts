/**
 * `waiaas enclave …`: the agent enclave process itself (src/enclave/main.ts, the code its attestation
 * measures), or one of the operator's enclave commands:
 *   waiaas enclave recover [--wallet ID …]   recover wallets into the running enclave from the database
 *   waiaas enclave measure [--nitro FILE]     the measurement (PCR0) the daemon pins
 */
export async function run(args: string[]): Promise<number> {
  switch (args[0]) {
    case 'recover':
      return (await import('./enclave-recover.ts')).run(args.slice(1));
    case 'measure':
      return (await import('./enclave-measure.ts')).run(args.slice(1));
    default:
      return (await import('../../enclave/main.ts')).run(args);
  }
}
