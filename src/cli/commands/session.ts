import { parseArgs } from 'node:util';
import { apiClient, clientOptions } from '../api-client.ts';
import { printError } from '../output.ts';

const help = `Usage (owner token in --token or WAIAAS_TOKEN):
  waiaas session create WALLET_ID [--ttl SECONDS] [--label TEXT] [--json]
  waiaas session revoke SESSION_ID`;

export async function run(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: {
      ...clientOptions,
      ttl: { type: 'string', default: String(30 * 24 * 3600) },
      label: { type: 'string' },
    },
  });
  const target = positionals[0];
  if ((subcommand !== 'create' && subcommand !== 'revoke') || !target) {
    printError(help);
    return 2;
  }
  const client = apiClient(values);
  if (subcommand === 'revoke') {
    await client.sessions.revoke(target);
    console.log(values.json ? JSON.stringify({ revoked: target }) : `session ${target} revoked`);
    return 0;
  }
  const session = await client.sessions.create(target, {
    ttlSeconds: Number(values.ttl),
    ...(values.label ? { label: values.label } : {}),
  });
  if (values.json) console.log(JSON.stringify(session));
  else {
    console.log(`session         ${session.id} (expires ${session.expiresAt})`);
    console.log(`agent token     ${session.token}`);
    console.log('                (shown once: hand it to the agent)');
  }
  return 0;
}
