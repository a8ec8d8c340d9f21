import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';

/**
 * Configuration: defaults, then `config.toml` in the data directory, then `WAIAAS_*` environment
 * variables. Every key has one name in the file (snake_case) and one in the environment
 * (WAIAAS_ + upper case), so a message can name exactly what to fix.
 */

export const networks = ['localnet', 'devnet', 'mainnet-beta'] as const;
export type Network = (typeof networks)[number];
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const enclaveIsolations = ['process', 'nitro'] as const;
export const enclaveVaults = ['local', 'aws-kms'] as const;

const port = z.coerce
  .number({ error: 'expected a port number 0-65535' })
  .int('expected a whole port number 0-65535')
  .min(0, 'expected a port number 0-65535')
  .max(65535, 'expected a port number 0-65535');

const httpUrl = z
  .string()
  .trim()
  .refine(
    (value) => /^https?:\/\/[^\s]+$/.test(value) && URL.canParse(value),
    'expected an http:// or https:// URL',
  );

const dbUrl = z
  .string()
  .trim()
  .refine(
    (value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value) && URL.canParse(value),
    'expected a postgres://user@host:port/database URL (leave unset for SQLite in the data directory)',
  );

const monitorCount = z.coerce
  .number({ error: 'expected a number of events (0 turns the rule off)' })
  .int('expected a whole number of events')
  .min(0, 'expected a number of events (0 turns the rule off)');

const monitorSeconds = z.coerce
  .number({ error: 'expected a window in seconds' })
  .int('expected a whole number of seconds')
  .min(1, 'expected a window of at least 1 second')
  .max(7 * 86_400, 'expected a window of at most 7 days');

/**
 * Origins (scheme://host:port) the daemon may fetch for x402 payments although they resolve to a
 * loopback, private or link-local address: a comma-separated list, or a TOML array.
 */
const originList = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '')
      : value,
  z.array(
    z
      .string()
      .refine(
        (value) =>
          URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) && new URL(value).origin === value,
        'expected http(s) origins like http://127.0.0.1:4021, without a path',
      ),
    { error: 'expected a comma-separated list of http(s) origins' },
  ),
);

const keySchemas = {
  port: port.default(3100),
  host: z.string().trim().min(1, 'expected a host name or IP address').default('127.0.0.1'),
  network: z.enum(networks, { error: `expected one of ${networks.join(', ')}` }).default('localnet'),
  rpc_url: httpUrl.optional(),
  db_url: dbUrl.optional(),
  squads_so: z.string().trim().min(1, 'expected a path to squads_v4.so').optional(),
  localnet_port: port.default(8899),
  log_level: z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` }).default('info'),
  master_token: z.string().min(32, 'expected a token of at least 32 characters').optional(),
  rate_limit_per_token: z.coerce
    .number({ error: 'expected requests per minute (0 turns the limit off)' })
    .int('expected a whole number of requests per minute')
    .min(0, 'expected requests per minute (0 turns the limit off)')
    .default(600),
  rate_limit_per_ip: z.coerce
    .number({ error: 'expected requests per minute (0 turns the limit off)' })
    .int('expected a whole number of requests per minute')
    .min(0, 'expected requests per minute (0 turns the limit off)')
    .default(1200),
  monitor_poll_ms: z.coerce
    .number({ error: 'expected milliseconds between monitor passes' })
    .int('expected whole milliseconds')
    .min(50, 'expected at least 50 ms between monitor passes')
    .default(500),
  monitor_refusals: monitorCount.default(10),
  monitor_refusals_seconds: monitorSeconds.default(300),
  monitor_velocity_percent: z.coerce
    .number({ error: 'expected a percentage of the daily budget (0 turns the rule off)' })
    .min(0, 'expected a percentage of the daily budget (0 turns the rule off)')
    .max(100, 'expected a percentage of at most 100')
    .default(50),
  monitor_velocity_seconds: monitorSeconds.default(600),
  monitor_outside_hours: monitorCount.default(3),
  monitor_outside_hours_seconds: monitorSeconds.default(3600),
  monitor_enclave_restarts: monitorCount.default(3),
  monitor_enclave_restarts_seconds: monitorSeconds.default(600),
  x402_allowed_origins: originList.default([]),
  webhook_allow_hosts: z
    .union([z.string(), z.array(z.string())], { error: 'expected host names, IPs or CIDRs, comma-separated' })
    .transform((value) =>
      (Array.isArray(value) ? value : value.split(','))
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    )
    .pipe(
      z.array(
        z
          .string()
          .max(253, 'expected a host name, IP address or CIDR range')
          .regex(/^[A-Za-z0-9._:/[\]-]+$/, 'expected a host name, IP address or CIDR range'),
      ),
    )
    .default([]),
  program_source_rpc: httpUrl.optional(),
  monitor_chain_check_ms: z.coerce
    .number({ error: 'expected milliseconds between chain checks (0 turns them off)' })
    .int('expected whole milliseconds')
    .min(0, 'expected milliseconds between chain checks (0 turns them off)')
    .default(5_000),
  enclave_isolation: z
    .enum(enclaveIsolations, { error: `expected one of ${enclaveIsolations.join(', ')}` })
    .default('process'),
  enclave_vault: z
    .enum(enclaveVaults, { error: `expected one of ${enclaveVaults.join(', ')}` })
    .default('local'),
  enclave_kms_key_id: z.string().trim().min(1, 'expected a KMS key id or ARN').optional(),
  enclave_kms_region: z.string().trim().min(1, 'expected an AWS region, e.g. us-east-1').optional(),
  enclave_kms_endpoint: httpUrl.optional(),
  enclave_pcr0: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[0-9a-f]{96}$/, 'expected the enclave image measurement: 96 hex digits (waiaas enclave measure)')
    .optional(),
  enclave_vsock_cid: z.coerce
    .number({ error: 'expected the enclave vsock CID (nitro-cli run-enclave --enclave-cid)' })
    .int('expected a whole CID')
    .min(3, 'expected a CID of 3 or more (0-2 are reserved)')
    .default(16),
  enclave_vsock_port: z.coerce
    .number({ error: 'expected a vsock port' })
    .int('expected a whole port number')
    .min(1, 'expected a vsock port of 1 or more')
    .max(0xffffffff, 'expected a vsock port below 2^32')
    .default(5000),
  enclave_attestation_root: z.string().trim().min(1, 'expected a path to a PEM certificate').optional(),
  enclave_instance_stale_ms: z.coerce
    .number({ error: 'expected milliseconds without a heartbeat after which an enclave instance is gone' })
    .int('expected whole milliseconds')
    .min(1_000, 'expected 1000 ms or more')
    .default(10_000),
} as const;

type ConfigKey = keyof typeof keySchemas;
const configKeys = Object.keys(keySchemas) as ConfigKey[];

export interface Config {
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly network: Network;
  /** Explicit RPC URL; absent on localnet means "run the embedded localnet". */
  readonly rpcUrl: string | undefined;
  /** Absent means SQLite in the data directory. */
  readonly dbUrl: string | undefined;
  readonly squadsSo: string | undefined;
  readonly localnetPort: number;
  readonly logLevel: (typeof logLevels)[number];
  /** Operator master token for automated set-ups; otherwise `waiaas init` generates one. */
  readonly masterToken: string | undefined;
  /** Requests per minute per token and per IP; 0 means no limit. */
  readonly rateLimitPerToken: number;
  readonly rateLimitPerIp: number;
  /** Rules that freeze a misbehaving wallet on the server (src/daemon/monitor); a count of 0 turns one off. */
  readonly monitor: MonitorConfig;
  /** Origins x402 payments may fetch although they are not public addresses (tests, a local service). */
  readonly x402AllowedOrigins: readonly string[];
  /** Hosts (names, IPs, CIDRs) webhooks may reach although they are private or local. */
  readonly webhookAllowHosts: readonly string[];
  /** Where `waiaas quickstart` fetches the Squads program from when it is missing (default mainnet-beta). */
  readonly programSourceRpc: string | undefined;
  /** Where the agent enclave runs and what seals its seeds (src/daemon/runtime/enclave.ts). */
  readonly enclave: EnclaveConfig;
  readonly configFile: string;
  readonly sqlitePath: string;
}

/** A rule fires at `count` events within `seconds`. */
export interface MonitorRuleConfig {
  readonly count: number;
  readonly seconds: number;
}

export interface MonitorConfig {
  readonly pollMs: number;
  /** Policy refusals of one wallet's transfers. */
  readonly refusals: MonitorRuleConfig;
  /** More than `percent` of an asset's daily budget reserved within `seconds` (percent 0: off). */
  readonly velocity: { readonly percent: number; readonly seconds: number };
  /** Transfers refused as outside the policy's hours. */
  readonly outsideHours: MonitorRuleConfig;
  /** Restarts of the agent enclave (every wallet it serves is frozen). */
  readonly enclaveRestarts: MonitorRuleConfig;
  /**
   * How often the chain is read for spending under the agent's limits that the daemon did not send (a
   * leaked agent key); 0 turns it off.
   */
  readonly chainCheckMs: number;
}

export interface EnclaveConfig {
  /**
   * process: the embedded default, a separate OS process with development attestation and its own
   * vault key; nitro: an AWS Nitro Enclave reached over vsock, its seeds sealed by KMS to its image.
   */
  readonly isolation: (typeof enclaveIsolations)[number];
  /** process mode: the enclave's own key (local) or KMS (aws-kms: kmsKeyId, kmsRegion). */
  readonly vault: (typeof enclaveVaults)[number];
  readonly kmsKeyId: string | undefined;
  readonly kmsRegion: string | undefined;
  readonly kmsEndpoint: string | undefined;
  /** nitro: the image measurement (PCR0, hex) the daemon requires of the enclave's attestation. */
  readonly pcr0: string | undefined;
  readonly vsockCid: number;
  readonly vsockPort: number;
  /** A PEM root for the enclave's attestation instead of AWS's (stand-ins in tests only). */
  readonly attestationRoot: string | undefined;
  /** Another replica's enclave instance this long without a heartbeat is gone: its wallets move. */
  readonly instanceStaleMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The file key or environment variable at fault. */
  readonly key: string;

  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

export const envName = (key: ConfigKey): string => `WAIAAS_${key.toUpperCase()}`;

/** A value as it came in, with where it came from, for error messages that point at the source. */
interface RawValue {
  value: unknown;
  source: string;
  name: string;
}

const describe = (value: unknown): string => {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value ?? null);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const secretKeys: ReadonlySet<ConfigKey> = new Set(['master_token', 'db_url']);

export const defaultDataDir = (): string => join(homedir(), '.waiaas');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.WAIAAS_DATA_DIR?.trim() || defaultDataDir());
  const configFile = join(dataDir, 'config.toml');
  const raw = new Map<ConfigKey, RawValue>();

  if (existsSync(configFile)) {
    let table: Record<string, unknown>;
    try {
      table = parseToml(readFileSync(configFile, 'utf8'));
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new ConfigError(configFile, `Invalid configuration: ${configFile} is not valid TOML (${reason})`);
    }
    for (const [name, value] of Object.entries(table)) {
      if (!(configKeys as string[]).includes(name)) {
        throw new ConfigError(
          name,
          `Invalid configuration: unknown key "${name}" in ${configFile}; known keys: ${configKeys.join(', ')}`,
        );
      }
      raw.set(name as ConfigKey, { value, source: configFile, name });
    }
  }
  for (const key of configKeys) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '')
      raw.set(key, { value, source: 'environment', name: envName(key) });
  }

  const values: Record<string, unknown> = {};
  for (const key of configKeys) {
    const given = raw.get(key);
    const parsed = keySchemas[key].safeParse(given?.value);
    if (!parsed.success) {
      const name = given?.name ?? envName(key);
      const shown = secretKeys.has(key) ? '(hidden)' : describe(given?.value);
      const reason = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(
        name,
        `Invalid configuration: ${name}=${shown} from ${given?.source ?? 'defaults'}: ${reason}`,
      );
    }
    values[key] = parsed.data;
  }

  return {
    dataDir,
    configFile,
    sqlitePath: join(dataDir, 'waiaas.sqlite'),
    port: values.port as number,
    host: values.host as string,
    network: values.network as Network,
    rpcUrl: values.rpc_url as string | undefined,
    dbUrl: values.db_url as string | undefined,
    squadsSo: values.squads_so as string | undefined,
    localnetPort: values.localnet_port as number,
    logLevel: values.log_level as Config['logLevel'],
    masterToken: values.master_token as string | undefined,
    rateLimitPerToken: values.rate_limit_per_token as number,
    rateLimitPerIp: values.rate_limit_per_ip as number,
    monitor: {
      pollMs: values.monitor_poll_ms as number,
      refusals: {
        count: values.monitor_refusals as number,
        seconds: values.monitor_refusals_seconds as number,
      },
      velocity: {
        percent: values.monitor_velocity_percent as number,
        seconds: values.monitor_velocity_seconds as number,
      },
      outsideHours: {
        count: values.monitor_outside_hours as number,
        seconds: values.monitor_outside_hours_seconds as number,
      },
      enclaveRestarts: {
        count: values.monitor_enclave_restarts as number,
        seconds: values.monitor_enclave_restarts_seconds as number,
      },
      chainCheckMs: values.monitor_chain_check_ms as number,
    },
    x402AllowedOrigins: values.x402_allowed_origins as string[],
    webhookAllowHosts: values.webhook_allow_hosts as string[],
    programSourceRpc: values.program_source_rpc as string | undefined,
    enclave: enclaveConfigOf(values, (key) => raw.get(key)?.name ?? envName(key)),
  };
}

function enclaveConfigOf(values: Record<string, unknown>, nameOf: (key: ConfigKey) => string): EnclaveConfig {
  const enclave: EnclaveConfig = {
    isolation: values.enclave_isolation as EnclaveConfig['isolation'],
    vault: values.enclave_vault as EnclaveConfig['vault'],
    kmsKeyId: values.enclave_kms_key_id as string | undefined,
    kmsRegion: values.enclave_kms_region as string | undefined,
    kmsEndpoint: values.enclave_kms_endpoint as string | undefined,
    pcr0: values.enclave_pcr0 as string | undefined,
    vsockCid: values.enclave_vsock_cid as number,
    vsockPort: values.enclave_vsock_port as number,
    attestationRoot: values.enclave_attestation_root as string | undefined,
    instanceStaleMs: values.enclave_instance_stale_ms as number,
  };
  if (enclave.isolation === 'nitro' && enclave.pcr0 === undefined) {
    throw new ConfigError(
      nameOf('enclave_pcr0'),
      `Invalid configuration: ${nameOf('enclave_pcr0')} is required when enclave_isolation is nitro: the image measurement the daemon pins (waiaas enclave measure --nitro FILE)`,
    );
  }
  if (enclave.isolation === 'process' && enclave.vault === 'aws-kms') {
    for (const key of ['enclave_kms_key_id', 'enclave_kms_region'] as const) {
      if (values[key] === undefined) {
        throw new ConfigError(
          nameOf(key),
          `Invalid configuration: ${nameOf(key)} is required when enclave_vault is aws-kms`,
        );
      }
    }
  }
  return enclave;
}

/** The RPC URL the daemon talks to: the explicit one, the embedded localnet, or the public cluster. */
export function resolveRpcUrl(config: Config): string {
  if (config.rpcUrl) return config.rpcUrl;
  switch (config.network) {
    case 'localnet':
      return `http://127.0.0.1:${config.localnetPort}`;
    case 'devnet':
      return 'https://api.devnet.solana.com';
    case 'mainnet-beta':
      return 'https://api.mainnet-beta.solana.com';
  }
}

/** The embedded localnet runs when the network is localnet and no RPC URL points elsewhere. */
export const runsEmbeddedLocalnet = (config: Config): boolean =>
  config.network === 'localnet' && config.rpcUrl === undefined;

export const defaultConfigToml = `# WAIaaS configuration. Every key can be overridden by an environment variable WAIAAS_<KEY>.
# port = 3100
# host = "127.0.0.1"
# network = "localnet"          # localnet | devnet | mainnet-beta
# rpc_url = "http://127.0.0.1:8899"
# db_url = "postgres://user@127.0.0.1:5432/waiaas"   # unset: SQLite in this directory
# squads_so = "/path/to/squads_v4.so"
# localnet_port = 8899
# log_level = "info"
# rate_limit_per_token = 600     # requests per minute per token (all replicas together on PostgreSQL); 0 = off
# rate_limit_per_ip = 1200       # requests per minute per IP without a valid token; 0 = off
# The monitor freezes a wallet on the server (the owner decides the rest) when, within the window:
# monitor_refusals = 10                   # policy refusals of its transfers; 0 = off
# monitor_refusals_seconds = 300
# monitor_velocity_percent = 50           # % of an asset's daily budget reserved; 0 = off
# monitor_velocity_seconds = 600
# monitor_outside_hours = 3               # transfers refused as outside the policy's hours; 0 = off
# monitor_outside_hours_seconds = 3600
# monitor_enclave_restarts = 3            # enclave restarts (freezes every wallet); 0 = off
# monitor_enclave_restarts_seconds = 600
# monitor_poll_ms = 500
# x402_allowed_origins = "http://127.0.0.1:4021"   # x402 may fetch these although they are not public
# Webhooks may only reach public addresses; allow private or local receivers here (names, IPs, CIDRs):
# webhook_allow_hosts = ["hooks.internal.example", "10.0.5.0/24"]
# program_source_rpc = "https://api.mainnet-beta.solana.com"   # where quickstart fetches the Squads program
# monitor_chain_check_ms = 5000          # read the chain for spends the daemon did not make (a leaked agent key); 0 = off
# enclave_instance_stale_ms = 10000      # another replica's enclave this long without a heartbeat is gone: its wallets move
`;

/**
 * WAIAAS_* variables that are not configuration keys but are read elsewhere: the data directory, the
 * CLI's daemon and token, the MCP server's, the daemon's keystore passphrase and the enclave's vault.
 */
export const otherEnvNames: readonly string[] = [
  'WAIAAS_DATA_DIR',
  'WAIAAS_URL',
  'WAIAAS_TOKEN',
  'WAIAAS_SESSION_TOKEN',
  'WAIAAS_WALLET_ID',
  'WAIAAS_DAEMON_PASSPHRASE',
  'WAIAAS_ENCLAVE_VAULT_PASSPHRASE',
];

/** Every WAIAAS_* variable something here reads; the test suite's and the benches' own (WAIAAS_TEST_*, WAIAAS_BENCH_*) are left alone. */
export const knownEnvNames = (): string[] => [...configKeys.map(envName), ...otherEnvNames];

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
};

/** One warning per set WAIAAS_* variable nothing reads, naming the known one closest to it (a typo?). */
export function unknownEnvWarnings(env: NodeJS.ProcessEnv): string[] {
  const known = knownEnvNames();
  return Object.keys(env)
    .filter(
      (name) =>
        name.startsWith('WAIAAS_') &&
        !name.startsWith('WAIAAS_TEST_') &&
        !name.startsWith('WAIAAS_BENCH_') &&
        !known.includes(name),
    )
    .sort()
    .map((name) => {
      const closest = [...known].sort((a, b) => editDistance(name, a) - editDistance(name, b))[0];
      return `warning: ${name} is not a WAIaaS setting and is ignored; did you mean ${closest}?`;
    });
}
