import * as esbuild from 'esbuild';
const minify = process.argv[2] === 'min';
const r = await esbuild.build({ absWorkingDir: '/work/main', entryPoints: ['src/cli/commands/enclave-entry.ts'], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, metafile: true, outfile: '/tmp/x.mjs', logLevel: 'silent', external: ['cbor-extract'], minify, legalComments: 'none' });
const out = Object.values(r.metafile.outputs)[0];
const groups = {};
for (const [k, v] of Object.entries(out.inputs)) { const g = k.startsWith('node_modules') ? k.split('/').slice(0, k.includes('zod/v4') ? 4 : 2).join('/') : k.split('/').slice(0, 2).join('/'); groups[g] = (groups[g] ?? 0) + v.bytesInOutput; }
console.log('total', out.bytes);
for (const [k, v] of Object.entries(groups).sort((a, b) => b[1] - a[1])) console.log(v, k);
