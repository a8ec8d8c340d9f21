import type { Command } from 'commander';
import { apiClient } from '../api-client.ts';
import { statusColour } from '../describe.ts';
import { type ApiFlags, apiOptions } from '../flags.ts';
import { print } from '../output.ts';
import { table } from '../ui.ts';

export function register(program: Command): void {
  const session = program.command('session').description('agent sessions: the tokens an agent acts with');

  apiOptions(
    session
      .command('create')
      .description('issue an agent token bound to a wallet (shown once)')
      .argument('<wallet-id>')
      .option('--ttl <seconds>', 'how long it lives, 60 s to 90 days', String(30 * 24 * 3600))
      .option('--label <text>', 'a name for it'),
  ).action(async (walletId: string, flags: ApiFlags & { ttl: string; label?: string }) => {
    const created = await apiClient(flags).sessions.create(walletId, {
      ttlSeconds: Number(flags.ttl),
      label: flags.label,
    });
    print(
      flags,
      () =>
        [
          `session         ${created.id} (expires ${created.expiresAt})`,
          `agent token     ${created.token}`,
          '                (shown once: hand it to the agent)',
        ].join('\n'),
      created,
    );
  });

  apiOptions(
    session.command('list').description("a wallet's agent sessions, newest first").argument('<wallet-id>'),
  ).action(async (walletId: string, flags: ApiFlags) => {
    const sessions = await apiClient(flags).sessions.list(walletId);
    print(
      flags,
      () =>
        sessions.length === 0
          ? `no sessions for ${walletId}: waiaas session create ${walletId}`
          : table(
              ['SESSION', 'LABEL', 'STATUS', 'CREATED', 'EXPIRES'],
              sessions.map((item) => [
                item.id,
                item.label ?? '-',
                statusColour(item.status),
                item.createdAt,
                item.expiresAt,
              ]),
            ),
      sessions,
    );
  });

  apiOptions(
    session.command('revoke').description('revoke an agent session at once').argument('<session-id>'),
  ).action(async (sessionId: string, flags: ApiFlags) => {
    await apiClient(flags).sessions.revoke(sessionId);
    print(flags, () => `session ${sessionId} revoked`, { revoked: sessionId });
  });
}
