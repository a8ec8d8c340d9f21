import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { type Argon2Job, HASH_WASM_ARGON2 } from './kdf-worker.ts';

/**
 * argon2id in a short-lived child process, for a process that derives a key once and must stay small
 * afterwards (the enclave). A worker thread would do the work as well, but its isolate, the compiled
 * WebAssembly and the malloc arenas its threads touched leave ~8–10 MB of RSS behind after it ends;
 * a process gives every byte back when it exits. The job goes in on stdin as one binary record, the
 * derived key comes out on stdout; both copies are wiped once written.
 */

const CHILD_SOURCE = `
const { argon2id } = require(process.argv[1]);
const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', async () => {
  const input = Buffer.concat(chunks);
  for (const chunk of chunks) chunk.fill(0);
  const saltLength = input.readUInt32BE(16);
  try {
    const output = await argon2id({
      memorySize: input.readUInt32BE(0), iterations: input.readUInt32BE(4),
      parallelism: input.readUInt32BE(8), hashLength: input.readUInt32BE(12),
      salt: input.subarray(20, 20 + saltLength), password: input.subarray(20 + saltLength),
      outputType: 'binary',
    });
    const copy = Buffer.from(output);
    output.fill(0);
    process.stdout.write(copy, () => copy.fill(0));
  } catch (error) {
    process.stderr.write(String((error && error.message) || error));
    process.exitCode = 1;
  } finally {
    input.fill(0);
  }
});
`;

const HEADER_BYTES = 20;

export const argon2idInChildProcess = (job: Argon2Job): Promise<Uint8Array> =>
  new Promise((resolve, reject) => {
    const input = Buffer.allocUnsafe(HEADER_BYTES + job.salt.length + job.password.length);
    input.writeUInt32BE(job.memoryKiB, 0);
    input.writeUInt32BE(job.iterations, 4);
    input.writeUInt32BE(job.parallelism, 8);
    input.writeUInt32BE(job.length, 12);
    input.writeUInt32BE(job.salt.length, 16);
    input.set(job.salt, HEADER_BYTES);
    input.set(job.password, HEADER_BYTES + job.salt.length);
    const hashWasm = createRequire(import.meta.url).resolve(HASH_WASM_ARGON2);
    // An empty environment: no NODE_OPTIONS (a loader, a preload) rides along into the child.
    const child = spawn(process.execPath, ['-e', CHILD_SOURCE, hashWasm], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {},
    });
    const output: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.once('error', (error) => {
      input.fill(0);
      reject(new Error(`argon2id process failed: ${error.message}`));
    });
    child.once('close', (code) => {
      const key = Buffer.concat(output);
      for (const chunk of output) chunk.fill(0);
      if (code === 0 && key.length === job.length) {
        resolve(new Uint8Array(key));
      } else {
        reject(new Error(`argon2id process failed: ${stderr.slice(0, 200) || `exit ${code}`}`));
      }
      key.fill(0);
    });
    child.stdin.on('error', () => undefined); // reported by 'close'
    child.stdin.end(input, () => input.fill(0));
  });
