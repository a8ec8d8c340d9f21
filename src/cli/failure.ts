/** A failed command told in one line (plus one per invalid field), with what to do about it. */
import { isWaiaasError } from '../core/errors.ts';
import { ConfigError } from '../daemon/config.ts';
import { WaiaasApiError, WaiaasNetworkError } from '../sdk/index.ts';
import { issueLines } from './issues.ts';

export function describeFailure(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof WaiaasNetworkError) {
    const code = (error.cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
    return `${error.message}${typeof code === 'string' ? ` (${code})` : ''}. Is the daemon running? Start it with \`waiaas start\`, or point --url / WAIAAS_URL at it.`;
  }
  if (error instanceof WaiaasApiError || isWaiaasError(error)) {
    const details = (error as { details?: Record<string, unknown> }).details;
    const action = error.action ? ` ${error.action}` : '';
    return [`${error.message} [${error.code}]${action}`, ...issueLines(details)].join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}
