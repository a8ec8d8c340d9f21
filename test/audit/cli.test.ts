import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/daemon/audit/index.ts';
import { forEachEngine } from '../support/databases.ts';
import { runWaiaas } from '../support/processes.ts';

async function waiaas(args: string[], env: NodeJS.ProcessEnv) {
  const command = runWaiaas(args, env);
  const { code } = await command.exited;
  return { code, stdout: command.stdout(), stderr: command.stderr() };
}

forEachEngine((engine, { makeDatabase }) => {
  describe(`waiaas audit verify (${engine})`, () => {
    it('exits 0 on an intact chain and 1 naming the first broken entry after a deletion', async () => {
      const database = await makeDatabase();
      const store = await database.open();
      for (let n = 1; n <= 4; n++) {
        await store.writeTransaction((trx) =>
          appendAudit(trx, {
            kind: 'session.created',
            actor: { role: 'owner', id: 'own_1' },
            subject: `ses_${n}`,
          }),
        );
      }
      const env: NodeJS.ProcessEnv =
        engine === 'sqlite'
          ? { WAIAAS_DATA_DIR: dirname(database.sqlitePath!), WAIAAS_DB_URL: '' }
          : {
              WAIAAS_DATA_DIR: mkdtempSync(join(tmpdir(), 'waiaas-audit-cli-')),
              WAIAAS_DB_URL: database.url!,
            };

      const intact = await waiaas(['audit', 'verify', '--json'], env);
      expect(intact.stderr).toBe('');
      expect(intact.code).toBe(0);
      expect(JSON.parse(intact.stdout)).toMatchObject({ ok: true, entries: 4, head: { sequence: 4 } });

      await sql`delete from audit_log where sequence = 2`.execute(store.db);
      const broken = await waiaas(['audit', 'verify'], env);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toContain('audit chain BROKEN at entry 2');
    });
  });
});
