import { parseArgs } from 'node:util';
import { verifyAuditChain } from '../../daemon/audit/verify.ts';
import { loadConfig } from '../../daemon/config.ts';
import { openStore } from '../../store/index.ts';
import { printError } from '../output.ts';

const help = `Usage:
  waiaas audit verify [--json]    walk the audit hash chain; exit 0 only when it is intact`;

export async function run(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === 'verify') return verify(rest);
  printError(help);
  return 2;
}

async function verify(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const config = loadConfig();
  const store = await openStore({
    ...(config.dbUrl ? { url: config.dbUrl } : {}),
    sqlitePath: config.sqlitePath,
  });
  try {
    const result = await verifyAuditChain(store.db);
    if (values.json) {
      console.log(JSON.stringify(result));
    } else if (result.ok) {
      console.log(`audit chain intact: ${result.entries} entries`);
      console.log(`head            ${result.head.sequence} ${result.head.hash}`);
    } else {
      console.log(
        `audit chain BROKEN at entry ${result.firstBroken?.sequence}: ${result.firstBroken?.reason}`,
      );
      console.log(`entries verified before the break: ${result.entries}`);
    }
    return result.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
