import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sdkRoot = fileURLToPath(new URL('../../src/sdk', import.meta.url));

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );

/** Every module specifier: static imports and re-exports, dynamic import(), require(). */
const specifiers = (source: string): string[] =>
  [
    ...source.matchAll(/\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g),
    ...source.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
    ...source.matchAll(/\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g),
    ...source.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1]!);

describe('the SDK depends on nothing but itself and the standard fetch', () => {
  const files = sourceFiles(sdkRoot);

  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it('imports only files inside src/sdk: no packages (zod…), no node: modules, nothing of the daemon', () => {
    const outside: string[] = [];
    for (const file of files) {
      for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
        const inside =
          specifier.startsWith('.') && !relative(sdkRoot, resolve(dirname(file), specifier)).startsWith('..');
        if (!inside) outside.push(`${relative(sdkRoot, file)} → ${specifier}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('the checker itself sees every kind of import it is meant to catch', () => {
    const sample = `import { z } from 'zod';\nimport type { X } from "../core/errors.ts";\nexport * from 'node:crypto';\nimport 'side-effect';\nconst m = await import('pkg');\nconst r = require('old');`;
    expect(specifiers(sample)).toEqual([
      'zod',
      '../core/errors.ts',
      'node:crypto',
      'side-effect',
      'pkg',
      'old',
    ]);
  });

  it('is what `waiaas/sdk` exports (package.json "exports"), with its public API', async () => {
    const sdk = await import('waiaas/sdk');
    expect(Object.keys(sdk).sort()).toEqual(
      [
        'AuthError',
        'ChainError',
        'ConflictError',
        'EnclaveUnavailableError',
        'IdempotencyConflictError',
        'InsufficientFundsError',
        'InvalidAmountError',
        'LAMPORTS_PER_SOL',
        'NotFoundError',
        'Paginated',
        'PolicyRefusedError',
        'RateLimitedError',
        'SOL_DECIMALS',
        'ServerError',
        'U64_MAX',
        'ValidationError',
        'WaiaasApiError',
        'WaiaasClient',
        'WaiaasNetworkError',
        'createClient',
        'errorFromResponse',
        'formatSol',
        'formatUnits',
        'parseUnits',
        'policyToWire',
        'sol',
      ].sort(),
    );
    const client = sdk.createClient({ url: 'http://127.0.0.1:1' });
    expect(Object.keys(client).filter((key) => key !== 'http')).toEqual([
      'owners',
      'wallets',
      'sessions',
      'policy',
      'transfers',
      'approvals',
      'audit',
      'webhooks',
      'events',
    ]);
  });
});
