import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  type ErrorCode,
  errorCatalogue,
  isWaiaasError,
  type PolicyLayer,
  WaiaasError,
} from '../core/errors.ts';
import { ADDRESS_MESSAGE, AMOUNT_MESSAGES } from './schemas.ts';

/** RFC 9457 problem details, the body of every error answer. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string(),
    retryable: z.boolean(),
    action: z.string(),
    layer: z.enum(['server', 'enclave', 'chain']).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    requestId: z.string().optional(),
  })
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof problemSchema>;

export const problemType = (code: ErrorCode): string =>
  `https://waiaas.dev/errors/${code.toLowerCase().replaceAll('_', '-')}`;

export function toProblem(error: WaiaasError, requestId?: string): Problem {
  const entry = errorCatalogue[error.code];
  const problem: Problem = {
    type: problemType(error.code),
    title: entry.title,
    status: error.status,
    code: error.code,
    detail: error.message,
    retryable: error.retryable,
    action: error.action,
  };
  if (error.layer) problem.layer = error.layer as PolicyLayer;
  if (Object.keys(error.details).length > 0) problem.details = error.details;
  if (requestId) problem.requestId = requestId;
  return problem;
}

/** Fastify's own errors (parsing, limits, validation) become catalogue errors; anything else is INTERNAL. */
export function classifyError(error: unknown): WaiaasError {
  if (isWaiaasError(error)) return error;
  const fastifyError = error as Partial<FastifyError> | undefined;
  if (hasZodFastifySchemaValidationErrors(error)) {
    // A request whose only fault is a malformed address or amount gets the specific code.
    const messages = error.validation.map((issue) => issue.message ?? '');
    const only = (test: (message: string) => boolean) => messages.length > 0 && messages.every(test);
    const code = only((message) => message === ADDRESS_MESSAGE)
      ? 'INVALID_ADDRESS'
      : only((message) => AMOUNT_MESSAGES.has(message))
        ? 'INVALID_AMOUNT'
        : 'VALIDATION_FAILED';
    return new WaiaasError(code, {
      message: 'The request does not match the schema.',
      details: {
        issues: error.validation.map((issue) => ({
          path: issue.instancePath || '/',
          message: issue.message,
        })),
      },
    });
  }
  switch (fastifyError?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new WaiaasError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new WaiaasError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new WaiaasError('VALIDATION_FAILED', { message: 'The body is not valid JSON.' });
  }
  if (fastifyError?.validation) {
    return new WaiaasError('VALIDATION_FAILED', { message: 'The request does not match the schema.' });
  }
  if (
    typeof fastifyError?.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new WaiaasError('VALIDATION_FAILED', { message: 'The request could not be read.' });
  }
  return new WaiaasError('INTERNAL', { cause: error });
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const classified = classifyError(error);
    if (classified.code === 'INTERNAL') request.log.error({ err: error }, 'unhandled error');
    reply.status(classified.status).type('application/problem+json').send(toProblem(classified, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new WaiaasError('NOT_FOUND', {
      message: `No route ${request.method} ${request.url.split('?')[0]}.`,
    });
    reply.status(404).type('application/problem+json').send(toProblem(error, request.id));
  });
}
