import type { Command } from 'commander';

interface EnclaveFlags {
  socket?: string;
  vsock?: string;
  stateDir?: string;
  vaultKeystore?: string;
  vaultPassphraseStdin?: boolean;
  attestation?: string;
}

/** `waiaas enclave`: the agent enclave process itself (the daemon's supervisor starts it). */
export function register(program: Command): void {
  program
    .command('enclave')
    .description('the agent enclave process (the daemon starts it; no network, no database)')
    .option('--socket <path>', 'listen on this Unix socket')
    .option('--vsock <port>', 'listen on this vsock port (Nitro)')
    .option('--state-dir <dir>', 'its key vault and journal')
    .option('--vault-keystore <path>', 'the vault keystore (default <state-dir>/vault.keystore)')
    .option(
      '--vault-passphrase-stdin',
      'read the vault passphrase from stdin (else WAIAAS_ENCLAVE_VAULT_PASSPHRASE)',
    )
    .option('--attestation <kind>', 'dev, nitro or none (default dev)')
    .addHelpText(
      'after',
      '\nPrints one JSON line {"event":"ready",…} on stdout once it listens; logs go to stderr.',
    )
    .action(async (flags: EnclaveFlags) => {
      const args = [
        ...(flags.socket === undefined ? [] : ['--socket', flags.socket]),
        ...(flags.vsock === undefined ? [] : ['--vsock', flags.vsock]),
        ...(flags.stateDir === undefined ? [] : ['--state-dir', flags.stateDir]),
        ...(flags.vaultKeystore === undefined ? [] : ['--vault-keystore', flags.vaultKeystore]),
        ...(flags.vaultPassphraseStdin ? ['--vault-passphrase-stdin'] : []),
        ...(flags.attestation === undefined ? [] : ['--attestation', flags.attestation]),
      ];
      const { run } = await import('./enclave.ts');
      process.exitCode = await run(args);
    });
}
