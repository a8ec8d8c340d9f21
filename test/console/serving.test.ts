/**
 * How the daemon serves the console: under /console with a Content-Security-Policy of 'self' only, no
 * inline script in the page, nothing referenced from another origin in the build (it works offline),
 * hashed assets cached for good and the page never, no way out of the build folder, and a clear
 * CONSOLE_NOT_BUILT (not a bare 404) when the build is missing.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleContentSecurityPolicy, consolePlugin } from '../../src/daemon/plugins/console.ts';
import { registerProblemHandlers } from '../../src/daemon/problem.ts';
import { ensureConsoleBuilt } from './build.ts';

const appWith = async (root: string) => {
  const app = Fastify();
  registerProblemHandlers(app);
  await app.register(consolePlugin({ root }));
  await app.ready();
  return app;
};

describe('the console as the daemon serves it', () => {
  let root: string;
  let app: Awaited<ReturnType<typeof appWith>>;
  beforeAll(async () => {
    root = await ensureConsoleBuilt();
    app = await appWith(root);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers the page at /console/ (and sends /console there) with a CSP that allows nothing but its own origin', async () => {
    const redirect = await app.inject('/console');
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/console/');

    const page = await app.inject('/console/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toBe(consoleContentSecurityPolicy);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ])
      expect(csp).toContain(directive);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toContain('no-cache');
  });

  it('the page has no inline script or style, and loads only its own hashed assets, cached for good', async () => {
    const html = (await app.inject('/console/')).body;
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/console\/assets\/[^"]+\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\son[a-z]+=/i);

    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const response = await app.inject(asset);
      expect([asset, response.statusCode]).toEqual([asset, 200]);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(response.headers['content-security-policy']).toBe(consoleContentSecurityPolicy);
    }
  });

  it('the build references no other origin: it works offline and the CSP has nothing to allow', () => {
    const files = readdirSync(join(root, 'assets')).map((name) => join(root, 'assets', name));
    for (const file of [join(root, 'index.html'), ...files]) {
      const text = readFileSync(file, 'utf8');
      // URLs a browser would fetch: in HTML attributes, CSS url(), or a script's import/fetch.
      expect([file, text.match(/(?:src|href)=["']https?:\/\/[^"']+/g)]).toEqual([file, null]);
      expect([file, text.match(/url\(\s*["']?https?:/g)]).toEqual([file, null]);
      expect([file, text.match(/import\s*\(?\s*["']https?:/g)]).toEqual([file, null]);
    }
  });

  it('never serves a file outside the build folder, nor its dotfiles', async () => {
    for (const path of [
      '/console/../package.json',
      '/console/..%2f..%2fpackage.json',
      '/console/%2e%2e/%2e%2e/package.json',
      '/console/.sources-sha256',
    ]) {
      const response = await app.inject(path);
      expect([path, response.statusCode >= 400, response.body.includes('"name": "waiaas"')]).toEqual([
        path,
        true,
        false,
      ]);
    }
  });

  it('without a build it says so with CONSOLE_NOT_BUILT and how to build it', async () => {
    const empty = await appWith(mkdtempSync(join(tmpdir(), 'waiaas-no-console-')));
    try {
      for (const path of ['/console', '/console/', '/console/assets/index.js']) {
        const response = await empty.inject(path);
        expect([path, response.statusCode]).toEqual([path, 503]);
        const problem = response.json() as { code: string; action: string };
        expect(problem.code).toBe('CONSOLE_NOT_BUILT');
        expect(problem.action).toContain('npm run build:web');
      }
    } finally {
      await empty.close();
    }
  });
});
