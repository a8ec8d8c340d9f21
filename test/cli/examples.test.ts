/** The sample policies in examples/ are valid policies (the one check the API makes), and the starter one is quickstart's. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { starterPolicy } from '../../src/cli/quickstart-setup.ts';
import { parsePolicy } from '../../src/core/policy.ts';
import { repoRoot } from '../support/processes.ts';

const dir = join(repoRoot, 'examples');
const files = readdirSync(dir).filter((name) => name.endsWith('.json'));

describe('examples/', () => {
  it('has sample policies', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s is a valid policy', (name) => {
    const parsed = parsePolicy(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    expect(parsed.ok ? [] : parsed.issues).toEqual([]);
  });

  it('policy-starter.json is the policy quickstart gives its wallet', () => {
    expect(JSON.parse(readFileSync(join(dir, 'policy-starter.json'), 'utf8'))).toEqual(starterPolicy);
  });
});
