/**
 * The CLI's surface as a user meets it, through the built `bin/waiaas.mjs`: every command and
 * subcommand answers `--help` with its usage and exit 0; a mistake is one line on stderr and exit 2;
 * the hint for the second factor names the flag that exists; an unknown WAIAAS_* variable is named
 * with the setting it probably meant.
 */
import { describe, expect, it } from 'vitest';
import { commandPaths, createProgram } from '../../src/cli/program.ts';
import { runWaiaas } from '../support/processes.ts';

async function waiaas(args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
  const command = runWaiaas(args, env, input);
  const { code } = await command.exited;
  return { code, stdout: command.stdout(), stderr: command.stderr() };
}

const paths = commandPaths(createProgram()).filter((path) => path.at(-1) !== 'help');

describe('waiaas --help', () => {
  it('knows the commands the README lists', () => {
    const names = paths.map((path) => path.join(' '));
    for (const name of [
      'init',
      'start',
      'quickstart',
      'programs fetch',
      'owner create',
      'wallet resume',
      'wallet withdraw',
      'policy edit',
      'policy set',
      'session list',
      'transfers cancel',
      'webhooks redeliver',
      'mcp',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('every command and subcommand prints its usage and exits 0', async () => {
    const failures: string[] = [];
    const queue = [[], ...paths];
    const worker = async () => {
      for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
        const result = await waiaas([...path, '--help']);
        const usage = `Usage: waiaas${path.length > 0 ? ` ${path.join(' ')}` : ''}`;
        if (result.code !== 0 || !result.stdout.startsWith(usage) || result.stderr !== '') {
          failures.push(
            `${path.join(' ')}: exit ${result.code}, ${JSON.stringify(result.stdout.slice(0, 80))}`,
          );
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    expect(failures).toEqual([]);
  }, 180_000);

  it('a usage mistake is one line on stderr (and where to look), exit 2', async () => {
    const missing = await waiaas(['wallet', 'resume']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim().split('\n')).toEqual([
      "waiaas: missing required argument 'wallet-id'",
      '(run it with --help for its usage)',
    ]);

    const typo = await waiaas(['walet', 'list']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown command 'walet'");
    expect(typo.stderr).toContain('Did you mean wallet?');
  });

  it('without a terminal, the owner act says which flag reads the second factor from stdin', async () => {
    const result = await waiaas([
      'wallet',
      'freeze',
      'wal_x',
      '--token',
      'waiaas_own_x',
      '--url',
      'http://127.0.0.1:1',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pass --unlock-stdin');
    expect(result.stderr).not.toContain('--passphrase-stdin');
  });

  it('warns about an unknown WAIAAS_* variable, naming the closest setting, and goes on', async () => {
    const result = await waiaas(['--version'], { WAIAAS_PROT: '4000', WAIAAS_TEST_SOMETHING: 'x' });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(result.stderr.trim().split('\n')).toEqual([
      'waiaas: warning: WAIAAS_PROT is not a WAIaaS setting and is ignored; did you mean WAIAAS_PORT?',
    ]);
  });
});
