import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Command } from 'commander';
import type { PcrAllowlist, VerifiedAttestation, VerifyAttestationOptions } from '../../attestation/index.ts';
import { isWaiaasError } from '../../core/errors.ts';

const help = [
  'Usage: waiaas attestation verify FILE [--at TIME|doc] [--root PEM] [--allow-debug]',
  '                                      [--pcr0 HEX]... [--pcr INDEX=HEX]... [--nonce HEX]',
  '',
  'Verifies an enclave attestation document (raw CBOR or base64) and prints a JSON summary.',
  '  --at TIME|doc   check certificate validity at an ISO 8601 time (or epoch ms), or at the document timestamp',
  '                  (default: now)',
  '  --root PEM      pin this root certificate instead of the AWS Nitro Enclaves root',
  '  --allow-debug   accept debug-mode enclaves (PCR0-2 all zero)',
  '  --pcr0 HEX      require PCR0 to be one of the given values (repeatable)',
  '  --pcr I=HEX     require PCR I to be one of the given values (repeatable)',
  '  --nonce HEX     require this nonce',
  'Exit status: 0 verified, 1 not verified, 2 usage error.',
].join('\n');

export interface CliOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

class UsageError extends Error {}

const HEX = /^(?:[0-9a-f]{2})+$/;

const parseHex = (value: string, flag: string): string => {
  const hex = value.trim().toLowerCase().replace(/^0x/, '');
  if (!HEX.test(hex)) throw new UsageError(`${flag} expects hex, got "${value}"`);
  return hex;
};

const parseTime = (value: string | undefined): VerifyAttestationOptions['at'] => {
  if (value === undefined) return undefined;
  if (value === 'doc' || value === 'document') return 'document';
  const time = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(time)) throw new UsageError(`--at expects an ISO 8601 time or "doc", got "${value}"`);
  return time;
};

const parsePcrs = (pcr0: string[] = [], pcr: string[] = []): PcrAllowlist | undefined => {
  const allowlist: Record<number, string[]> = {};
  const allow = (index: number, hex: string) => {
    allowlist[index] = [...(allowlist[index] ?? []), hex];
  };
  for (const value of pcr0) allow(0, parseHex(value, '--pcr0'));
  for (const entry of pcr) {
    const match = /^(\d{1,2})=(.+)$/.exec(entry);
    if (!match) throw new UsageError(`--pcr expects INDEX=HEX, got "${entry}"`);
    allow(Number(match[1]), parseHex(match[2]!, '--pcr'));
  }
  return Object.keys(allowlist).length === 0 ? undefined : allowlist;
};

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** A document file holds raw CBOR (a COSE_Sign1 array, maybe tag 18) or its base64 text. */
export const decodeDocumentFile = (bytes: Uint8Array): Uint8Array => {
  const first = bytes[0];
  if (first === 0x84 || first === 0xd2) return bytes;
  const text = Buffer.from(bytes).toString('latin1').replace(/\s+/g, '');
  return BASE64.test(text) ? new Uint8Array(Buffer.from(text, 'base64')) : bytes;
};

const readInput = async (file: string, what: string): Promise<Buffer> => {
  const { MAX_ATTESTATION_DOCUMENT_BYTES } = await import('../../attestation/index.ts');
  try {
    const info = await stat(file);
    // Base64 grows a document by a third; anything far beyond that is not a document.
    if (info.size > 4 * MAX_ATTESTATION_DOCUMENT_BYTES) throw new UsageError(`${what} ${file} is too large`);
    return await readFile(file);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
};

const hexOrNull = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : Buffer.from(bytes).toString('hex');

export const summarize = (result: VerifiedAttestation) => ({
  verified: true,
  moduleId: result.moduleId,
  timestamp: result.timestamp,
  time: new Date(result.timestamp).toISOString(),
  digest: result.digest,
  debug: result.debug,
  pcrs: result.pcrs,
  publicKey: hexOrNull(result.publicKey),
  userData: hexOrNull(result.userData),
  nonce: hexOrNull(result.nonce),
  certificate: result.certificate,
  root: result.root,
  chainLength: result.chainLength,
  checkedAt: new Date(result.checkedAt).toISOString(),
});

const verifyCommand = async (args: string[], out: CliOutput): Promise<number> => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      at: { type: 'string' },
      root: { type: 'string' },
      'allow-debug': { type: 'boolean' },
      pcr0: { type: 'string', multiple: true },
      pcr: { type: 'string', multiple: true },
      nonce: { type: 'string' },
    },
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('verify takes exactly one FILE');
  const options: VerifyAttestationOptions = {
    at: parseTime(values.at),
    allowDebug: values['allow-debug'] === true,
    pcrs: parsePcrs(values.pcr0, values.pcr),
    ...(values.nonce === undefined
      ? {}
      : { expectedNonce: Buffer.from(parseHex(values.nonce, '--nonce'), 'hex') }),
    ...(values.root === undefined ? {} : { root: await readInput(values.root, 'root certificate') }),
  };
  const document = decodeDocumentFile(await readInput(file, 'document'));
  const { verifyAttestation } = await import('../../attestation/index.ts');
  try {
    out.stdout(`${JSON.stringify(summarize(verifyAttestation(document, options)), null, 2)}\n`);
    return 0;
  } catch (error) {
    if (isWaiaasError(error, 'VALIDATION_FAILED')) throw new UsageError(error.message);
    if (!isWaiaasError(error)) throw error;
    const { reason, ...details } = error.details;
    out.stderr(
      `${JSON.stringify({ verified: false, code: error.code, reason, message: error.message, details })}\n`,
    );
    return 1;
  }
};

/** `waiaas attestation verify FILE …`: exit 0 only when the document verifies. */
export async function run(args: string[], out: CliOutput = processOutput): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === 'help' || subcommand === '--help' || subcommand === '-h') {
    out.stdout(`${help}\n`);
    return 0;
  }
  try {
    if (subcommand !== 'verify') throw new UsageError(`unknown subcommand "${subcommand ?? ''}"`);
    return await verifyCommand(rest, out);
  } catch (error) {
    // parseArgs reports unknown or malformed flags with a TypeError carrying an ERR_PARSE_ARGS_* code.
    const parseError = (error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS') === true;
    if (!(error instanceof UsageError) && !parseError) throw error;
    out.stderr(`waiaas: ${(error as Error).message}\n${help}\n`);
    return 2;
  }
}

interface VerifyFlags {
  at?: string;
  root?: string;
  allowDebug?: boolean;
  pcr0: string[];
  pcr: string[];
  nonce?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `waiaas attestation verify …`: checked by `run` above (its exit codes and messages, which its tests call). */
export function register(program: Command): void {
  const attestation = program.command('attestation').description('enclave attestation documents');
  attestation
    .command('verify')
    .description('verify an enclave attestation document (raw CBOR or base64) and print a JSON summary')
    .argument('<file>')
    .option(
      '--at <time>',
      'check certificate validity at an ISO 8601 time (or epoch ms), or "doc" (default now)',
    )
    .option('--root <pem>', 'pin this root certificate instead of the AWS Nitro Enclaves root')
    .option('--allow-debug', 'accept debug-mode enclaves (PCR0-2 all zero)')
    .option('--pcr0 <hex>', 'require PCR0 to be one of the given values (repeatable)', collect, [])
    .option('--pcr <index=hex>', 'require PCR INDEX to be one of the given values (repeatable)', collect, [])
    .option('--nonce <hex>', 'require this nonce')
    .option('--json', 'the output is JSON already (accepted for scripts that pass it everywhere)')
    .addHelpText('after', '\nExit status: 0 verified, 1 not verified, 2 usage error.')
    .action(async (file: string, flags: VerifyFlags) => {
      process.exitCode = await run([
        'verify',
        file,
        ...(flags.at === undefined ? [] : ['--at', flags.at]),
        ...(flags.root === undefined ? [] : ['--root', flags.root]),
        ...(flags.allowDebug ? ['--allow-debug'] : []),
        ...flags.pcr0.flatMap((value) => ['--pcr0', value]),
        ...flags.pcr.flatMap((value) => ['--pcr', value]),
        ...(flags.nonce === undefined ? [] : ['--nonce', flags.nonce]),
      ]);
    });
}
