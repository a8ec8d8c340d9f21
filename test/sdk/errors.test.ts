import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '../../src/core/errors.ts';
import {
  AuthError,
  ChainError,
  ConflictError,
  EnclaveUnavailableError,
  errorFromResponse,
  IdempotencyConflictError,
  InsufficientFundsError,
  NotFoundError,
  PolicyRefusedError,
  RateLimitedError,
  ServerError,
  ValidationError,
  WaiaasApiError,
} from '../../src/sdk/index.ts';

const problem = (code: keyof typeof errorCatalogue, extra: Record<string, unknown> = {}) => {
  const entry = errorCatalogue[code];
  return {
    type: `https://waiaas.dev/errors/${code.toLowerCase()}`,
    title: entry.title,
    status: entry.status,
    code,
    detail: `${entry.title}.`,
    retryable: entry.retryable,
    action: entry.action,
    requestId: 'req-1',
    ...extra,
  };
};

const headers = (values: Record<string, string> = {}) => new Headers(values);

describe('problem documents become typed errors', () => {
  it('a server policy refusal is a PolicyRefusedError carrying layer, code, action and details', () => {
    const body = problem('POLICY_PER_TX_LIMIT', {
      layer: 'server',
      details: { perTransaction: '1000000000', amount: '2000000000' },
    });
    const error = errorFromResponse(403, body, headers());
    expect(error).toBeInstanceOf(PolicyRefusedError);
    expect(error).toBeInstanceOf(WaiaasApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'PolicyRefusedError',
      code: 'POLICY_PER_TX_LIMIT',
      status: 403,
      layer: 'server',
      title: 'Over the per-transaction limit',
      action: 'Send a smaller amount.',
      retryable: false,
      requestId: 'req-1',
      details: { perTransaction: '1000000000', amount: '2000000000' },
    });
    expect(error.message).toBe('Over the per-transaction limit.');
  });

  it('any problem with a layer is a policy refusal, whatever its code (an enclave or chain refusal)', () => {
    for (const layer of ['enclave', 'chain'] as const) {
      const error = errorFromResponse(403, problem('ENCLAVE_REFUSED', { layer }), headers());
      expect(error).toBeInstanceOf(PolicyRefusedError);
      expect(error.layer).toBe(layer);
    }
    const chainLimit = errorFromResponse(422, problem('CHAIN_REJECTED', { layer: 'chain' }), headers());
    expect(chainLimit).toBeInstanceOf(PolicyRefusedError);
  });

  it.each([
    ['UNAUTHORIZED', AuthError],
    ['FORBIDDEN', AuthError],
    ['SESSION_REVOKED', AuthError],
    ['SESSION_EXPIRED', AuthError],
    ['OWNER_UNLOCK_REQUIRED', AuthError],
    ['OWNER_UNLOCK_INVALID', AuthError],
    ['NOT_FOUND', NotFoundError],
    ['RATE_LIMITED', RateLimitedError],
    ['ENCLAVE_UNAVAILABLE', EnclaveUnavailableError],
    ['CHAIN_UNAVAILABLE', ChainError],
    ['CHAIN_REJECTED', ChainError],
    ['VALIDATION_FAILED', ValidationError],
    ['INVALID_ADDRESS', ValidationError],
    ['INVALID_AMOUNT', ValidationError],
    ['IDEMPOTENCY_CONFLICT', IdempotencyConflictError],
    ['INSUFFICIENT_FUNDS', InsufficientFundsError],
    ['POLICY_VERSION_NOT_NEWER', ConflictError],
    ['WALLET_FROZEN', PolicyRefusedError],
    ['POLICY_DAILY_LIMIT', PolicyRefusedError],
    ['INTERNAL', ServerError],
    ['DATABASE_UNAVAILABLE', ServerError],
  ] as const)('%s → %s with the catalogue action and retryable flag', (code, ErrorClass) => {
    const entry = errorCatalogue[code];
    const error = errorFromResponse(entry.status, problem(code), headers());
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error.code).toBe(code);
    expect(error.status).toBe(entry.status);
    expect(error.retryable).toBe(entry.retryable);
    expect(error.action).toBe(entry.action);
  });

  it('every catalogue code maps to an error whose status and retryable flag are the catalogue’s', () => {
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      const error = errorFromResponse(entry.status, problem(code as keyof typeof errorCatalogue), headers());
      expect(error).toBeInstanceOf(WaiaasApiError);
      expect([error.code, error.status, error.retryable]).toEqual([code, entry.status, entry.retryable]);
    }
  });

  it('RATE_LIMITED carries Retry-After in seconds, from delta-seconds or an HTTP date', () => {
    const seconds = errorFromResponse(429, problem('RATE_LIMITED'), headers({ 'retry-after': '7' }));
    expect(seconds).toBeInstanceOf(RateLimitedError);
    expect(seconds.retryAfter).toBe(7);
    const at = new Date(Date.now() + 30_000).toUTCString();
    const dated = errorFromResponse(429, problem('RATE_LIMITED'), headers({ 'retry-after': at }));
    expect(dated.retryAfter).toBeGreaterThanOrEqual(28);
    expect(dated.retryAfter).toBeLessThanOrEqual(31);
    expect(errorFromResponse(429, problem('RATE_LIMITED'), headers()).retryAfter).toBeUndefined();
  });

  it('an unknown code keeps its code and takes its class from the status', () => {
    const error = errorFromResponse(404, { ...problem('NOT_FOUND'), code: 'SOMETHING_NEW' }, headers());
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.code).toBe('SOMETHING_NEW');
  });

  it('an answer that is not a problem (a proxy page) is an HTTP_<status> error, retryable only when transient', () => {
    const gateway = errorFromResponse(502, '<html>Bad Gateway</html>', headers());
    expect(gateway).toBeInstanceOf(ServerError);
    expect(gateway).toMatchObject({ code: 'HTTP_502', status: 502, retryable: true });
    expect(gateway.detail).toContain('Bad Gateway');
    const teapot = errorFromResponse(418, undefined, headers());
    expect(teapot).toBeInstanceOf(ValidationError);
    expect(teapot).toMatchObject({ code: 'HTTP_418', retryable: false });
    expect(errorFromResponse(401, { message: 'nope' }, headers())).toBeInstanceOf(AuthError);
  });
});
