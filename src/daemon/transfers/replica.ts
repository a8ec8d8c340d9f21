/**
 * The name a daemon claims work under: the same for one data directory on one host across restarts
 * (so at start-up it takes back what it held when it stopped), different for every other replica.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';

export function replicaIdFor(dataDir: string): string {
  let path = dataDir;
  try {
    path = realpathSync(dataDir);
  } catch {
    // Not created yet: the configured path names it just as well.
  }
  return `rep_${createHash('sha256').update(`${hostname()}\n${path}`).digest('hex').slice(0, 16)}`;
}
