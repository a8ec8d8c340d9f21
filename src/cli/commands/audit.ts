import type { Command } from 'commander';
import { type JsonFlags, jsonOption } from '../flags.ts';

export function register(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  jsonOption(
    audit
      .command('verify')
      .description('walk the audit hash chain in the configured database; exit 0 only when it is intact'),
  ).action(async (flags: JsonFlags) => {
    const { verifyAuditChain } = await import('../../daemon/audit/verify.ts');
    const { loadConfig } = await import('../../daemon/config.ts');
    const { openStore } = await import('../../store/index.ts');
    const config = loadConfig();
    const store = await openStore({
      ...(config.dbUrl ? { url: config.dbUrl } : {}),
      sqlitePath: config.sqlitePath,
    });
    try {
      const result = await verifyAuditChain(store.db);
      if (flags.json) {
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
      process.exitCode = result.ok ? 0 : 1;
    } finally {
      await store.close();
    }
  });
}
