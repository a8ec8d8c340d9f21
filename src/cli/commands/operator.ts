/**
 * `waiaas operator token create|list|revoke`: the operator's tokens, over the HTTP API with an
 * operator token (--token or WAIAAS_TOKEN). Rotating is create, switch your tooling over, revoke the
 * old one; the last valid token cannot be revoked.
 */
import type { Command } from 'commander';
import { apiClient } from '../api-client.ts';
import { type ApiFlags, apiOptions } from '../flags.ts';
import { print } from '../output.ts';
import { table } from '../ui.ts';

export function register(program: Command): void {
  const token = program
    .command('operator')
    .description('the operator: tokens for automation and the operator routes')
    .command('token')
    .description('operator tokens: create one, list them, revoke one (rotation is create, then revoke)');

  apiOptions(
    token
      .command('create')
      .description('a new operator token (shown once)')
      .option('--label <text>', 'what the token is for', 'waiaas operator token create'),
    'operator',
  ).action(async (flags: ApiFlags & { label: string }) => {
    const created = await apiClient(flags, 'operator').operatorTokens.create({ label: flags.label });
    print(
      flags,
      () =>
        [
          `operator token  ${created.id} (${created.label})`,
          `token           ${created.token}`,
          '                (shown once; store it now — only its hash is kept)',
        ].join('\n'),
      created,
    );
  });

  apiOptions(token.command('list').description('every operator token, valid and revoked'), 'operator').action(
    async (flags: ApiFlags) => {
      const { items } = await apiClient(flags, 'operator').operatorTokens.list();
      print(
        flags,
        () =>
          table(
            ['TOKEN', 'STATUS', 'LABEL', 'CREATED'],
            items.map((item) => [
              item.id,
              item.revokedAt ? `revoked ${item.revokedAt}` : 'valid',
              item.label,
              item.createdAt,
            ]),
          ),
        items,
      );
    },
  );

  apiOptions(
    token
      .command('revoke')
      .description('revoke an operator token at once (not the last valid one)')
      .argument('<token-id>'),
    'operator',
  ).action(async (id: string, flags: ApiFlags) => {
    await apiClient(flags, 'operator').operatorTokens.revoke(id);
    print(flags, () => `operator token ${id} revoked`, { revoked: id });
  });
}
