/**
 * The owner console (web/, built by `npm run build:web` into dist/console) served at /console.
 *
 * The page speaks only the public API of this same origin, so its Content-Security-Policy allows
 * nothing else: scripts, styles, images and requests from 'self' only, no inline script, no framing,
 * no plugins. Hashed assets are cached for good; index.html never, so a new build shows at once.
 * Hidden from the OpenAPI document: these are pages, not API operations.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { WaiaasError } from '../../core/errors.ts';

export const CONSOLE_PREFIX = '/console';

export const consoleContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The folder holding package.json of WAIaaS itself, from wherever this file runs (src/ or a build). */
const packageRoot = (from: string): string => {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'waiaas'
    )
      return dir;
    if (dirname(dir) === dir) return from;
  }
};

/** Where `npm run build:web` writes the console. */
export const consoleBuildDir = (): string => join(packageRoot(import.meta.dirname), 'dist', 'console');

export interface ConsoleOptions {
  /** The built console; defaults to dist/console of this package. */
  readonly root?: string;
}

export const consolePlugin =
  (options: ConsoleOptions = {}): FastifyPluginAsync =>
  async (app) => {
    const root = options.root ?? consoleBuildDir();
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('content-security-policy', consoleContentSecurityPolicy);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cross-origin-opener-policy', 'same-origin');
      return payload;
    });

    if (!existsSync(join(root, 'index.html'))) {
      // Say what is missing rather than a bare 404, and keep serving the API.
      const notBuilt = async () => {
        throw new WaiaasError('CONSOLE_NOT_BUILT', { details: { folder: root } });
      };
      app.get(CONSOLE_PREFIX, { schema: { hide: true } }, notBuilt);
      app.get(`${CONSOLE_PREFIX}/*`, { schema: { hide: true } }, notBuilt);
      return;
    }

    app.get(CONSOLE_PREFIX, { schema: { hide: true } }, (_request, reply) =>
      reply.redirect(`${CONSOLE_PREFIX}/`, 301),
    );
    await app.register(fastifyStatic, {
      root,
      prefix: `${CONSOLE_PREFIX}/`,
      decorateReply: false,
      index: ['index.html'],
      dotfiles: 'deny',
      schemaHide: true,
      cacheControl: false,
      setHeaders(response, path) {
        const immutable = /[\\/]assets[\\/]/.test(path);
        response.setHeader(
          'cache-control',
          immutable ? 'public, max-age=31536000, immutable' : 'no-cache, no-store, must-revalidate',
        );
      },
    });
  };
