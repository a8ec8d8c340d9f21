/** Policy documents in files: what `policy show --json` prints, or a bare policy (examples/*.json). */
import { readFileSync } from 'node:fs';
import { WaiaasError } from '../core/errors.ts';
import type { WirePolicy } from '../sdk/index.ts';

/** The policy in `path`: a bare document, or the `policy` of a `policy show --json` answer. */
export function readPolicyFile(path: string): WirePolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: `Cannot read the policy file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    });
  }
  return parsePolicyText(text, path);
}

export function parsePolicyText(text: string, where: string): WirePolicy {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: `${where} is not JSON: ${(error as Error).message}`,
    });
  }
  const wrapped = value as { policy?: unknown; walletId?: unknown };
  const policy =
    typeof wrapped === 'object' && wrapped !== null && typeof wrapped.walletId === 'string' && wrapped.policy
      ? wrapped.policy
      : value;
  return policy as WirePolicy;
}
