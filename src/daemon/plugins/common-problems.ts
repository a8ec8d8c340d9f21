/**
 * Failure modes every route of a kind shares, declared in its OpenAPI responses so the document names
 * them all without each route repeating them: 429 for rate-limited routes, 401/403 for routes that
 * need a token, 400 for routes that take input, 413/415 for routes with a body. A route's own
 * declaration of a status wins. It also makes the 415 true: JSON is the only body type parsed. Register it before the routes (first in buildDaemonApp's list): it
 * only sees routes declared after it.
 */
import type { FastifyPluginAsync, RouteOptions } from 'fastify';
import { problemSchema } from '../problem.ts';

export interface CommonProblemsOptions {
  /** Paths the rate limits do not apply to (default: GET /v1/health, /metrics). */
  readonly rateLimitExempt?: readonly string[];
}

type Schema = {
  body?: unknown;
  params?: unknown;
  querystring?: unknown;
  security?: unknown[];
  hide?: boolean;
  response?: Record<string | number, unknown>;
};

/** The statuses a route of this shape can answer besides its own. */
export function commonStatuses(
  route: Pick<RouteOptions, 'url'>,
  schema: Schema,
  exempt: ReadonlySet<string>,
) {
  const statuses: number[] = [];
  if (!exempt.has(route.url)) statuses.push(429);
  if (schema.body !== undefined) statuses.push(400, 413, 415);
  if (schema.params !== undefined || schema.querystring !== undefined) statuses.push(400);
  if ((schema.security ?? []).length > 0) statuses.push(401, 403);
  return new Set(statuses);
}

export const commonProblems = (options: CommonProblemsOptions = {}): FastifyPluginAsync => {
  const exempt = new Set(options.rateLimitExempt ?? ['/v1/health', '/metrics']);
  const plugin: FastifyPluginAsync = async (app) => {
    // Bodies are JSON only: Fastify would otherwise hand a text/plain body to the route as a string,
    // which then fails validation (400) instead of being refused for its type (415, as declared).
    app.removeContentTypeParser('text/plain');
    app.addHook('onRoute', (route) => {
      const schema = route.schema as Schema | undefined;
      if (schema === undefined || schema.hide || schema.response === undefined) return;
      const response = schema.response;
      for (const status of commonStatuses(route, schema, exempt)) {
        if (response[status] === undefined && response[String(status)] === undefined)
          response[status] = problemSchema;
      }
    });
  };
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
};
