/**
 * `waiaas operator token create|list|revoke`: the operator's tokens, over the HTTP API with an
 * operator token (--token or WAIAAS_TOKEN). Rotating is create, switch your tooling over, revoke the
 * old one; the last valid token cannot be revoked.
 */
import { parseArgs } from 'node:util';
import { apiClient, clientOptions } from '../api-client.ts';
import { printError } from '../output.ts';

const help = `Usage (operator token in --token or WAIAAS_TOKEN):
  waiaas operator token create [--label TEXT] [--json]
  waiaas operator token list [--json]
  waiaas operator token revoke TOKEN_ID [--json]`;

export async function run(args: string[]): Promise<number> {
  const [noun, verb, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: { ...clientOptions, label: { type: 'string', default: 'waiaas operator token create' } },
  });
  if (noun !== 'token' || (verb !== 'create' && verb !== 'list' && verb !== 'revoke')) {
    printError(help);
    return 2;
  }
  const client = apiClient(values);
  if (verb === 'create') {
    const created = await client.operatorTokens.create({ label: values.label });
    if (values.json) console.log(JSON.stringify(created));
    else {
      console.log(`operator token  ${created.id} (${created.label})`);
      console.log(`token           ${created.token}`);
      console.log('                (shown once; store it now — only its hash is kept)');
    }
    return 0;
  }
  if (verb === 'list') {
    const { items } = await client.operatorTokens.list();
    if (values.json) console.log(JSON.stringify(items));
    else
      for (const token of items)
        console.log(
          `${token.id}  ${token.revokedAt ? `revoked ${token.revokedAt}` : 'valid'}  ${token.label}`,
        );
    return 0;
  }
  const id = positionals[0];
  if (!id) {
    printError(help);
    return 2;
  }
  await client.operatorTokens.revoke(id);
  console.log(values.json ? JSON.stringify({ revoked: id }) : `operator token ${id} revoked`);
  return 0;
}
