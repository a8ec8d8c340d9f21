/**
 * The owner console's build: one page at /console, its assets hashed under /console/assets, written to
 * dist/console where the daemon serves it (src/daemon/plugins/console.ts). Nothing is loaded from
 * elsewhere at run time and nothing is inlined as script, so the page runs under a CSP of 'self' only.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    // The preload polyfill is an inline-free module, but evergreen browsers need none of it.
    modulePreload: { polyfill: false },
    // Everything as files: a data: URL for a script or style would need a looser CSP.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
  },
});
