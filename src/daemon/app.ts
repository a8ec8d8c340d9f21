import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Registry } from 'prom-client';
import type { Store } from '../store/index.ts';
import { registerAuthFailureAudit } from './audit/index.ts';
import { requireRole } from './auth.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type DomainMetrics, registerMetrics } from './plugins/metrics.ts';
import { registerOpenApi } from './plugins/openapi.ts';
import { type RateLimitOptions, registerRateLimit } from './plugins/rate-limit.ts';
import type { PrincipalCache } from './principal-cache.ts';
import { registerProblemHandlers } from './problem.ts';
import { type HealthDependencies, healthRoutes } from './routes/health.ts';
import { HealthState } from './runtime/health-state.ts';

export interface AppDependencies {
  logger: Logger;
  store: Store;
  /** Who a bearer token is (`runtime.services.principals`): /metrics admits only the operator. */
  principals: Pick<PrincipalCache, 'resolve'>;
  health: HealthDependencies;
  rateLimit?: RateLimitOptions;
  /** The API's route plugins, each with its own dependencies. */
  routes?: readonly FastifyPluginAsync[];
  /** The runtime's domain metrics, served on /metrics beside the process and HTTP ones. */
  domainMetrics?: DomainMetrics;
}

/** Request bodies are small JSON documents; anything bigger is refused before it is parsed. */
export const bodyLimitBytes = 64 * 1024;

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Per-request log lines cost throughput on the transfer path; metrics count requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: bodyLimitBytes,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  registerRateLimit(app, { ...deps.rateLimit, store: deps.store });
  registerAuthFailureAudit(app, deps.store);

  const metrics = createMetrics();
  registerMetrics(app, metrics, deps.domainMetrics);
  await registerOpenApi(app, deps.health.version);

  const health = new HealthState(deps.health);
  app.addHook('onClose', async () => health.stop());
  const domain = deps.domainMetrics;
  if (domain) health.onChange((document) => domain.observeHealth(document));
  await app.register(healthRoutes(health));
  for (const routes of deps.routes ?? []) await app.register(routes);

  const requireOperator = requireRole(deps.principals, 'operator');
  const registry = domain ? Registry.merge([metrics.registry, domain.registry]) : metrics.registry;
  app.get('/metrics', { schema: { hide: true }, onRequest: requireOperator }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  return app;
}
