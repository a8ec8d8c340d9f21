/**
 * Files: the SQLite database and its -wal and -shm files are readable by the owner only (0600), also
 * when they were opened up before a start; the data directory is forced back to 0700 at every start,
 * with a warning saying so.
 */
import { chmodSync, existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { initialise } from '../../src/cli/initialise.ts';
import { loadConfig } from '../../src/daemon/config.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { openStore, setMeta } from '../../src/store/index.ts';

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

const capture = () => {
  const lines: string[] = [];
  const logger = createLogger(
    'warn',
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return { lines, logger };
};

describe('file modes', () => {
  it('creates the database, its WAL and its shared-memory file 0600', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'waiaas-modes-')), 'waiaas.sqlite');
    const store = await openStore({ sqlitePath: path });
    try {
      await setMeta(store.db, 'written', 'so that the WAL holds a page');
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        expect(existsSync(file)).toBe(true);
        expect([file, modeOf(file)]).toEqual([file, '600']);
      }
    } finally {
      await store.close();
    }
  });

  it('sets a database file someone opened up back to 0600 at the next open, and says so', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'waiaas-modes-')), 'waiaas.sqlite');
    const first = await openStore({ sqlitePath: path });
    await setMeta(first.db, 'k', 'v');
    await first.close();
    chmodSync(path, 0o644);
    const { lines, logger } = capture();
    const store = await openStore({ sqlitePath: path, logger });
    try {
      expect(modeOf(path)).toBe('600');
      await setMeta(store.db, 'k', 'w');
      expect(modeOf(`${path}-wal`)).toBe('600');
      expect(lines.join('')).toContain('set back to 600');
    } finally {
      await store.close();
    }
  });

  it('forces the data directory to 0700 at every start, warning only when it had to', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'waiaas-modes-')), 'data');
    const config = loadConfig({ WAIAAS_DATA_DIR: dataDir });
    const quiet = capture();
    await (await initialise(config, quiet.logger)).store.close();
    expect(modeOf(dataDir)).toBe('700');
    expect(quiet.lines).toEqual([]);

    chmodSync(dataDir, 0o755);
    const loud = capture();
    const { store } = await initialise(config, loud.logger);
    await store.close();
    expect(modeOf(dataDir)).toBe('700');
    expect(loud.lines.join('')).toContain('the data directory was mode 755; set back to 700');
    expect(modeOf(config.sqlitePath)).toBe('600');
  });
});
