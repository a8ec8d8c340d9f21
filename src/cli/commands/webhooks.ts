import { type Command, Option } from 'commander';
import type { WebhookDelivery } from '../../sdk/index.ts';
import { apiClient } from '../api-client.ts';
import { statusColour } from '../describe.ts';
import { type ApiFlags, apiOptions } from '../flags.ts';
import { print } from '../output.ts';
import { readStdinLines } from '../prompt.ts';
import { table } from '../ui.ts';

const DELIVERY_STATUSES = ['pending', 'delivering', 'delivered', 'failed', 'cancelled'] as const;

export function register(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description(
      "HMAC-signed deliveries of your wallets' events (transfers, approvals, freezes, monitor alerts) to a URL",
    );

  apiOptions(
    webhooks
      .command('add')
      .description('deliver events to a URL (the signing secret is shown once when generated)')
      .argument('<url>', 'an http(s) URL')
      .option('--events <types>', 'comma-separated event types (default: every event)')
      .option(
        '--secret-stdin',
        'read the HMAC secret (24+ characters) from standard input instead of generating one',
      ),
  ).action(async (url: string, flags: ApiFlags & { events?: string; secretStdin?: boolean }) => {
    const secret = flags.secretStdin ? (await readStdinLines())[0] : undefined;
    const events = flags.events
      ?.split(',')
      .map((type) => type.trim())
      .filter(Boolean);
    const created = await apiClient(flags).webhooks.create({
      url,
      ...(events ? { events } : {}),
      ...(secret ? { secret } : {}),
    });
    print(
      flags,
      () =>
        [
          `webhook         ${created.id} → ${created.url}`,
          `events          ${created.events?.join(', ') ?? 'every event'}`,
          ...(created.secret
            ? [
                `signing secret  ${created.secret}`,
                '                (shown once: verify X-WAIaaS-Signature with it)',
              ]
            : []),
        ].join('\n'),
      created,
    );
  });

  apiOptions(webhooks.command('list').description('your webhooks (never their secrets)')).action(
    async (flags: ApiFlags) => {
      const items = await apiClient(flags).webhooks.list().toArray(1000);
      print(
        flags,
        () =>
          items.length === 0
            ? 'no webhooks yet: waiaas webhooks add URL'
            : table(
                ['WEBHOOK', 'URL', 'EVENTS', 'CREATED'],
                items.map((hook) => [hook.id, hook.url, hook.events?.join(',') ?? 'all', hook.createdAt]),
              ),
        items,
      );
    },
  );

  apiOptions(
    webhooks
      .command('deliveries')
      .description("a webhook's deliveries, newest first (failed ones can be sent again)")
      .argument('<webhook-id>')
      .addOption(new Option('--status <status>', 'only these').choices([...DELIVERY_STATUSES]))
      .option('--limit <n>', 'how many', '50'),
  ).action(
    async (webhookId: string, flags: ApiFlags & { status?: WebhookDelivery['status']; limit: string }) => {
      const limit = Math.max(1, Math.min(1000, Number(flags.limit) || 50));
      const items = await apiClient(flags)
        .webhooks.deliveries(webhookId, {
          limit: Math.min(limit, 100),
          ...(flags.status ? { status: flags.status } : {}),
        })
        .toArray(limit);
      print(
        flags,
        () =>
          items.length === 0
            ? 'no deliveries'
            : table(
                ['DELIVERY', 'EVENT', 'WALLET', 'STATUS', 'ATTEMPTS', 'LAST ANSWER', 'CREATED'],
                items.map((delivery) => [
                  delivery.id,
                  delivery.type,
                  delivery.walletId ?? '-',
                  statusColour(delivery.status),
                  String(delivery.attempts),
                  delivery.lastStatusCode !== null
                    ? `HTTP ${delivery.lastStatusCode}`
                    : (delivery.lastError ?? '-'),
                  delivery.createdAt,
                ]),
              ),
        items,
      );
    },
  );

  apiOptions(
    webhooks
      .command('redeliver')
      .description('send a failed delivery again, from its first attempt')
      .argument('<webhook-id>')
      .argument('<delivery-id>'),
  ).action(async (webhookId: string, deliveryId: string, flags: ApiFlags) => {
    const result = await apiClient(flags).webhooks.redeliver(webhookId, deliveryId);
    print(flags, () => `delivery ${result.id}: ${result.status} (sent again shortly)`, result);
  });

  apiOptions(
    webhooks
      .command('remove')
      .description('delete a webhook; deliveries not yet sent are cancelled')
      .argument('<webhook-id>'),
  ).action(async (webhookId: string, flags: ApiFlags) => {
    await apiClient(flags).webhooks.delete(webhookId);
    print(flags, () => `webhook ${webhookId} removed`, { removed: webhookId });
  });
}
