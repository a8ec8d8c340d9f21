import { isWaiaasError } from '../core/errors.ts';
import { ConfigError } from '../daemon/config.ts';
import { printError } from './output.ts';

type Command = (args: string[]) => Promise<number>;

/** Commands load lazily so a small command (the enclave, one verification) starts small. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  init: {
    summary: 'create the data directory, config and operator master token',
    load: async () => (await import('./commands/init.ts')).run,
  },
  start: {
    summary: 'run the daemon (and the embedded localnet on network localnet)',
    load: async () => (await import('./commands/start.ts')).run,
  },
  quickstart: {
    summary: 'start on localnet and, the first time, set up an owner, a funded wallet and an agent session',
    load: async () => (await import('./commands/quickstart.ts')).run,
  },
  localnet: {
    summary: 'run the embedded localnet alone',
    load: async () => (await import('./commands/localnet.ts')).run,
  },
  programs: {
    summary: 'programs fetch --rpc URL: download and pin the Squads v4 program',
    load: async () => (await import('./commands/programs.ts')).run,
  },
  enclave: {
    summary: 'the agent enclave process (started by the daemon); enclave recover | measure',
    load: async () => (await import('./commands/enclave.ts')).run,
  },
  'kms-policy': {
    summary: 'kms-policy owner|seal: print the KMS key policies (owner key: MFA; seal key: enclave image)',
    load: async () => (await import('./commands/kms-policy.ts')).run,
  },
  owner: {
    summary: 'owner create|show: the Owner Key (local keystore or AWS KMS) and its token',
    load: async () => (await import('./commands/owner.ts')).run,
  },
  keystore: {
    summary: 'keystore change-passphrase: re-encrypt a keystore under a new passphrase',
    load: async () => (await import('./commands/keystore.ts')).run,
  },
  wallet: {
    summary: 'wallet create|list|show|freeze|resume|rotate|withdraw (owner)',
    load: async () => (await import('./commands/wallet.ts')).run,
  },
  approvals: {
    summary: 'approvals [list] | approve ID | reject ID (owner)',
    load: async () => (await import('./commands/approvals.ts')).run,
  },
  session: {
    summary: 'session create WALLET_ID | revoke SESSION_ID: agent sessions (owner)',
    load: async () => (await import('./commands/session.ts')).run,
  },
  policy: {
    summary: 'policy show WALLET_ID | set WALLET_ID FILE (owner)',
    load: async () => (await import('./commands/policy.ts')).run,
  },
  attestation: {
    summary: 'attestation verify FILE: verify an enclave attestation document',
    load: async () => (await import('./commands/attestation.ts')).run,
  },
  audit: {
    summary: 'audit verify: walk the audit hash chain; exit 0 only when it is intact',
    load: async () => (await import('./commands/audit.ts')).run,
  },
  mcp: {
    summary: 'the MCP server for an agent on stdio (WAIAAS_URL, WAIAAS_SESSION_TOKEN, WAIAAS_WALLET_ID)',
    load: async () => (await import('./commands/mcp.ts')).run,
  },
};

export const usage = (): string =>
  [
    'Usage: waiaas <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(12)} ${command.summary}`),
    '',
    'Configuration: <data dir>/config.toml, overridden by WAIAAS_* environment variables',
    '(WAIAAS_DATA_DIR, WAIAAS_PORT, WAIAAS_HOST, WAIAAS_NETWORK, WAIAAS_RPC_URL, WAIAAS_DB_URL,',
    'WAIAAS_SQUADS_SO, WAIAAS_LOCALNET_PORT, WAIAAS_LOG_LEVEL, WAIAAS_MASTER_TOKEN).',
  ].join('\n');

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    const { version } = await import('../core/version.ts');
    console.log(version);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    printError(`unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(args);
  } catch (error) {
    if (error instanceof ConfigError) {
      printError(error.message);
      return 2;
    }
    if (isWaiaasError(error)) {
      printError(`${error.message} [${error.code}] ${error.action}`);
      return 1;
    }
    printError(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
