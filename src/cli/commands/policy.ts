import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { WaiaasError } from '../../core/errors.ts';
import { parsePolicy } from '../../core/policy.ts';
import { policyToWire, type WaiaasClient, type WalletPolicy, type WirePolicy } from '../../sdk/index.ts';
import { apiClient, ownerFactor } from '../api-client.ts';
import { describePolicy } from '../describe.ts';
import { type ApiFlags, apiOptions, type OwnerActFlags, ownerActOptions } from '../flags.ts';
import { issueLines } from '../issues.ts';
import { print, toJson } from '../output.ts';
import { parsePolicyText, readPolicyFile } from '../policy-file.ts';
import { confirm } from '../prompt.ts';
import { bold, green, red, withSpinner } from '../ui.ts';
import { formatAmount, tokenDecimals } from '../units.ts';

export function register(program: Command): void {
  const policy = program
    .command('policy')
    .description("a wallet's owner-signed policy: limits, tiers, recipients, hours")
    .addHelpText(
      'after',
      [
        '',
        'Versions: a policy file whose version is the one in force (as `policy show --json` or a copy of it',
        'has) is signed as the next version for you; a newer version is kept as it is; an older one is',
        'refused, since the policy changed after the file was taken. Sample policies: examples/*.json.',
      ].join('\n'),
    );

  apiOptions(
    policy.command('show').description('the policy in force, in SOL and token units').argument('<wallet-id>'),
  ).action(async (walletId: string, flags: ApiFlags) => {
    const client = apiClient(flags);
    const inForce = await client.policy.get(walletId);
    const decimals = flags.json ? new Map<string, number>() : await tokenDecimals(client, walletId);
    print(
      flags,
      () =>
        [
          `${bold('policy of')} ${walletId} (${inForce.status}), signed by owner key ${inForce.ownerPublicKey}`,
          ...describePolicy(inForce.policy, decimals).map((line) => `  ${line}`),
        ].join('\n'),
      inForce,
    );
  });

  ownerActOptions(
    policy
      .command('set')
      .description('sign a policy file and put it in force (server, enclave and the on-chain limits)')
      .argument('<wallet-id>')
      .argument('<file>', 'the policy (JSON): a document, or what `policy show --json` printed'),
  ).action(async (walletId: string, file: string, flags: OwnerActFlags) => {
    const client = apiClient(flags);
    const inForce = await client.policy.get(walletId);
    const next = nextVersion(readPolicyFile(file), inForce);
    assertValid(next);
    await sign(client, walletId, next, flags);
  });

  ownerActOptions(
    policy
      .command('edit')
      .description('edit the policy in force in $EDITOR (or take a file), see the difference, then sign it')
      .argument('<wallet-id>')
      .option('--file <file>', 'take the edited policy from this file instead of opening an editor'),
    true,
  ).action(async (walletId: string, flags: OwnerActFlags & { file?: string }) => {
    const client = apiClient(flags);
    const inForce = await client.policy.get(walletId);
    const next = flags.file
      ? nextVersion(readPolicyFile(flags.file), inForce)
      : editInEditor(policyToWire(inForce.policy), inForce);
    assertValid(next);
    const current = policyToWire(inForce.policy);
    const changes = policyDiff(current, next);
    if (changes.length === 0) {
      print(flags, () => 'no change: nothing to sign', { walletId, changed: false });
      return;
    }
    const decimals = await tokenDecimals(client, walletId);
    const shown = [
      `${bold('policy of')} ${walletId}: v${current.version} → v${next.version}`,
      ...changes.map((change) => formatChange(change, decimals)),
    ].join('\n');
    (flags.json ? process.stderr : process.stdout).write(`${shown}\n`);
    if (!(await confirm(`Sign policy v${next.version} with your Owner Key?`, flags.yes))) {
      process.stderr.write('nothing signed\n');
      process.exitCode = 1;
      return;
    }
    await sign(client, walletId, next, flags);
  });
}

/** The version to sign: the one in force + 1 when the file has the version in force. */
function nextVersion(policy: WirePolicy, inForce: WalletPolicy): WirePolicy {
  if (typeof policy !== 'object' || policy === null || typeof policy.version !== 'number') return policy;
  if (policy.version === inForce.version) {
    process.stderr.write(`v${inForce.version} is in force: this one is signed as v${inForce.version + 1}\n`);
    return { ...policy, version: inForce.version + 1 };
  }
  if (policy.version < inForce.version) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: `The file is version ${policy.version} but version ${inForce.version} is in force (the policy changed since the file was taken): start again from \`waiaas policy show --json\` or \`policy edit\`.`,
    });
  }
  return policy;
}

/** The same check the API makes, field by field, before the owner is asked for anything. */
function assertValid(policy: WirePolicy): void {
  const parsed = parsePolicy(policy);
  if (!parsed.ok) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'The policy is not valid:',
      details: { issues: parsed.issues },
    });
  }
}

async function sign(client: WaiaasClient, walletId: string, policy: WirePolicy, flags: OwnerActFlags) {
  const ownerUnlock = await ownerFactor(flags.unlockStdin);
  const result = await withSpinner('signing the policy and replacing the on-chain limits…', () =>
    client.policy.set(walletId, policy, { ownerUnlock }),
  );
  print(
    flags,
    () =>
      `policy v${result.policyVersion} in force for ${walletId} (enclave: ${result.enclave.status}, on chain: ${result.chain.status})` +
      (result.pending ? ' — the on-chain part is pending: run the same command again' : ''),
    result,
  );
}

/** Opens $VISUAL / $EDITOR (default vi) on the policy in force, its version already bumped. */
function editInEditor(current: WirePolicy, inForce: WalletPolicy): WirePolicy {
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  const dir = mkdtempSync(join(tmpdir(), 'waiaas-policy-'));
  const path = join(dir, `policy-${inForce.walletId}.json`);
  let text = `${JSON.stringify({ ...current, version: inForce.version + 1 }, null, 2)}\n`;
  try {
    for (;;) {
      writeFileSync(path, text, { mode: 0o600 });
      const edited = spawnSync(`${editor} ${JSON.stringify(path)}`, { stdio: 'inherit', shell: true });
      if (edited.status !== 0) {
        throw new WaiaasError('VALIDATION_FAILED', {
          message: `The editor (${editor}) exited with ${edited.status ?? edited.signal}; nothing signed.`,
        });
      }
      text = readFileSync(path, 'utf8');
      try {
        const policy = nextVersion(parsePolicyText(text, 'the edited policy'), inForce);
        assertValid(policy);
        return policy;
      } catch (error) {
        if (!(error instanceof WaiaasError) || !process.stdin.isTTY) throw error;
        process.stderr.write(`${[error.message, ...issueLines(error.details)].join('\n')}\n`);
        if (!confirmAgain()) throw error;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const confirmAgain = (): boolean => {
  process.stderr.write('Edit again? [Y/n] ');
  const answer = Buffer.alloc(16);
  let read = 0;
  try {
    read = readSync(0, answer, 0, answer.length, null);
  } catch {
    return false;
  }
  return !/^n/i.test(answer.subarray(0, read).toString().trim());
};

type Change = { path: string; before?: unknown; after?: unknown };

const leaves = (value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> => {
  if (Array.isArray(value) && !value.every((item) => typeof item === 'number')) {
    for (const [index, item] of value.entries()) leaves(item, `${prefix}[${index}]`, out);
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) leaves(item, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, value);
  }
  return out;
};

/** Field by field: what the new policy changes, adds and removes (the version aside). */
export function policyDiff(before: WirePolicy, after: WirePolicy): Change[] {
  const old = leaves({ ...before, version: 0 }, '', new Map());
  const next = leaves({ ...after, version: 0 }, '', new Map());
  const changes: Change[] = [];
  for (const path of new Set([...old.keys(), ...next.keys()])) {
    const was = old.get(path);
    const is = next.get(path);
    if (toJson(was) === toJson(is)) continue;
    changes.push({
      path,
      ...(old.has(path) ? { before: was } : {}),
      ...(next.has(path) ? { after: is } : {}),
    });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** assets.SOL.daily "2000000000" reads "2 SOL (2000000000)"; other values as JSON. */
function formatValue(path: string, value: unknown, decimals: ReadonlyMap<string, number>): string {
  const asset = /^assets\.([^.]+)\.(perTransaction|daily|tiers\.(instantMax|notifyMax|delayMax))$/.exec(
    path,
  )?.[1];
  if (asset && typeof value === 'string' && /^\d+$/.test(value)) {
    const human = formatAmount(asset, BigInt(value), decimals.get(asset));
    return human.includes('base units') ? human : `${human} (${value})`;
  }
  return toJson(value);
}

function formatChange(change: Change, decimals: ReadonlyMap<string, number>): string {
  const label = change.path.padEnd(34);
  if (!('before' in change)) return green(`+ ${label} ${formatValue(change.path, change.after, decimals)}`);
  if (!('after' in change)) return red(`- ${label} ${formatValue(change.path, change.before, decimals)}`);
  return `~ ${label} ${formatValue(change.path, change.before, decimals)} → ${formatValue(change.path, change.after, decimals)}`;
}
