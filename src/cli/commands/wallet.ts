import type { Command } from 'commander';
import { WaiaasError } from '../../core/errors.ts';
import { parseUnits } from '../../sdk/index.ts';
import { apiClient, ownerFactor } from '../api-client.ts';
import { describeWallet, statusColour } from '../describe.ts';
import { type ApiFlags, apiOptions, type OwnerActFlags, ownerActOptions } from '../flags.ts';
import { print } from '../output.ts';
import { readPolicyFile } from '../policy-file.ts';
import { confirm } from '../prompt.ts';
import { green, red, table, withSpinner, yellow } from '../ui.ts';
import { formatAmount, tokenDecimals } from '../units.ts';

export function register(program: Command): void {
  const wallet = program
    .command('wallet')
    .description("the owner's wallets: create, look, and the owner acts (freeze, resume, rotate, withdraw)");

  ownerActOptions(
    wallet
      .command('create')
      .description('create a wallet: a Squads v4 multisig with the agent spending limits of the policy')
      .requiredOption('--name <name>', "the wallet's name")
      .requiredOption('--policy <file>', 'the policy (JSON; see examples/)'),
  ).action(async (flags: OwnerActFlags & { name: string; policy: string }) => {
    const policy = readPolicyFile(flags.policy);
    const ownerUnlock = await ownerFactor(flags.unlockStdin);
    const created = await withSpinner('creating the Squads multisig…', () =>
      apiClient(flags).wallets.create({ name: flags.name, policy }, { ownerUnlock }),
    );
    print(flags, () => describeWallet(created), created);
  });

  apiOptions(wallet.command('list').description('your wallets')).action(async (flags: ApiFlags) => {
    const wallets = await apiClient(flags).wallets.list().toArray(1000);
    print(
      flags,
      () =>
        wallets.length === 0
          ? 'no wallets yet: waiaas wallet create --name NAME --policy FILE'
          : table(
              ['WALLET', 'NAME', 'STATUS', 'ADDRESS (deposit)', 'POLICY'],
              wallets.map((item) => [
                item.id,
                item.name,
                statusColour(item.status),
                item.vault,
                `v${item.policy.version}`,
              ]),
            ),
      wallets,
    );
  });

  apiOptions(
    wallet
      .command('show')
      .description('one wallet: status (and why it is frozen), addresses, policy and balance')
      .argument('<wallet-id>'),
  ).action(async (walletId: string, flags: ApiFlags) => {
    const client = apiClient(flags);
    const [found, balance] = await Promise.all([client.wallets.get(walletId), client.balance(walletId)]);
    const decimals = new Map(
      balance.tokens.flatMap((token) =>
        token.decimals === null ? [] : [[token.mint, token.decimals] as const],
      ),
    );
    print(
      flags,
      () =>
        [
          describeWallet(found, decimals),
          `${'balance'.padEnd(15)} ${formatAmount('SOL', balance.sol)}`,
          ...balance.tokens.map(
            (token) =>
              `${''.padEnd(15)} ${token.exists ? formatAmount(token.mint, token.amount, token.decimals) : `no account for ${token.mint} yet`}`,
          ),
        ].join('\n'),
      { wallet: found, balance },
    );
  });

  ownerActOptions(
    wallet
      .command('freeze')
      .description(
        'the kill switch: the server stops the agent at once, then the chain removes it and its limits',
      )
      .argument('<wallet-id>'),
  ).action(async (walletId: string, flags: OwnerActFlags) => {
    const ownerUnlock = await ownerFactor(flags.unlockStdin);
    const result = await withSpinner('freezing: server block, then the on-chain transaction…', () =>
      apiClient(flags).wallets.freeze(walletId, { ownerUnlock }),
    );
    print(
      flags,
      () =>
        `${red('frozen')} ${walletId}${result.server.cancelledTransfers.length > 0 ? ` (${result.server.cancelledTransfers.length} waiting transfers cancelled)` : ''}${result.pending ? yellow(' (on-chain part pending: run freeze again)') : ''}`,
      result,
    );
  });

  ownerActOptions(
    wallet
      .command('resume')
      .description('put the agent back on chain, with the policy in force before the freeze or a new one')
      .argument('<wallet-id>')
      .option(
        '--policy <file>',
        'resume with this policy instead (JSON; its version above the one in force)',
      ),
  ).action(async (walletId: string, flags: OwnerActFlags & { policy?: string }) => {
    const policy = flags.policy ? readPolicyFile(flags.policy) : undefined;
    const ownerUnlock = await ownerFactor(flags.unlockStdin);
    const result = await withSpinner('resuming…', () =>
      apiClient(flags).wallets.resume(walletId, policy ? { policy } : {}, { ownerUnlock }),
    );
    print(flags, () => `${green('active')} ${walletId} (policy v${result.policyVersion})`, result);
  });

  ownerActOptions(
    wallet
      .command('rotate')
      .description('give the agent a new key: the new member is added on chain before the old one leaves')
      .argument('<wallet-id>'),
  ).action(async (walletId: string, flags: OwnerActFlags) => {
    const ownerUnlock = await ownerFactor(flags.unlockStdin);
    const result = await withSpinner('rotating the agent key…', () =>
      apiClient(flags).wallets.rotateAgentKey(walletId, { ownerUnlock }),
    );
    print(
      flags,
      () => `agent key of ${walletId}: ${result.oldAgentPublicKey} → ${result.agentPublicKey}`,
      result,
    );
  });

  ownerActOptions(
    wallet
      .command('withdraw')
      .description('move SOL or a token from the vault to an address of yours')
      .argument('<wallet-id>')
      .requiredOption('--to <address>', 'where the funds go')
      .requiredOption('--amount <amount>', 'in SOL (or in the token with --mint and --decimals), or "all"')
      .option('--mint <mint>', 'a token to withdraw instead of SOL')
      .option('--decimals <n>', "the token's decimals, to read --amount in whole tokens"),
    true,
  ).action(
    async (
      walletId: string,
      flags: OwnerActFlags & { to: string; amount: string; mint?: string; decimals?: string },
    ) => {
      if (flags.mint && flags.decimals === undefined && flags.amount !== 'all') {
        throw new WaiaasError('VALIDATION_FAILED', { message: '--decimals is required with --mint.' });
      }
      const decimals = flags.mint ? Number(flags.decimals ?? 0) : 9;
      const amount = flags.amount === 'all' ? ('all' as const) : parseUnits(flags.amount, decimals);
      const asset = flags.mint ?? 'SOL';
      const what =
        amount === 'all' ? `all ${asset === 'SOL' ? 'SOL' : asset}` : formatAmount(asset, amount, decimals);
      if (!(await confirm(`Withdraw ${what} from ${walletId} to ${flags.to}?`, flags.yes))) {
        process.stderr.write('nothing done\n');
        process.exitCode = 1;
        return;
      }
      const ownerUnlock = await ownerFactor(flags.unlockStdin);
      const client = apiClient(flags);
      const result = await withSpinner('withdrawing…', () =>
        client.wallets.withdraw(walletId, { to: flags.to, amount, mint: flags.mint }, { ownerUnlock }),
      );
      const known = flags.mint
        ? ((await tokenDecimals(client, walletId)).get(flags.mint) ?? decimals)
        : undefined;
      print(
        flags,
        () =>
          `withdrew ${formatAmount(result.asset, result.amount, known)} from ${walletId} to ${result.to}${result.repeated ? ' (already done by an earlier call)' : ''}\nsignature ${result.signature}`,
        result,
      );
    },
  );
}
