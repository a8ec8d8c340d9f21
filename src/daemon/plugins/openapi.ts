import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { WaiaasError } from '../../core/errors.ts';

/**
 * The OpenAPI document is generated from the same zod schemas that validate requests, so the two
 * cannot drift. Every route's method, path and schema are noted as it is declared (register this
 * before any route); the document (/openapi.json) and the Swagger UI (/docs) are built on the first
 * request for either, in an app of their own that declares the same routes with @fastify/swagger and
 * @fastify/swagger-ui. Most daemons never serve them, and loaded at start the two plugins and what
 * they pull in (a YAML library, a JSON-schema resolver, a static-file server) would cost every
 * daemon their modules.
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  const routes: Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config'>[] = [];
  app.addHook('onRoute', (route) => {
    // HEAD routes are Fastify's own copies of the GETs; hidden ones are not documented.
    if (route.method === 'HEAD' || (route.schema as { hide?: boolean } | undefined)?.hide === true) return;
    routes.push({ method: route.method, url: route.url, schema: route.schema, config: route.config });
  });

  let docs: Promise<FastifyInstance> | undefined;
  const docsApp = () => {
    docs ??= buildDocsApp(version, routes).catch((error: unknown) => {
      docs = undefined;
      throw error;
    });
    return docs;
  };
  app.addHook('onClose', async () => {
    await (await docs?.catch(() => undefined))?.close();
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => (await docsApp()).swagger());
  const serveDocs = async (request: FastifyRequest, reply: FastifyReply) => {
    const ui = await docsApp();
    const answer = await ui.inject({ method: 'GET', url: request.url, headers: request.headers });
    if (answer.statusCode === 404) throw new WaiaasError('NOT_FOUND', { message: `No page ${request.url}.` });
    const { connection: _connection, 'transfer-encoding': _encoding, ...headers } = answer.headers;
    return reply.status(answer.statusCode).headers(headers).send(answer.rawPayload);
  };
  app.get('/docs', { schema: { hide: true } }, serveDocs);
  app.get('/docs/*', { schema: { hide: true } }, serveDocs);
}

async function buildDocsApp(
  version: string,
  routes: readonly Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config'>[],
): Promise<FastifyInstance> {
  const [{ default: fastifySwagger }, { default: fastifySwaggerUi }] = await Promise.all([
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  const docs = Fastify({ logger: false });
  docs.setValidatorCompiler(validatorCompiler);
  docs.setSerializerCompiler(serializerCompiler);
  await docs.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'WAIaaS API',
        description:
          'Wallet-as-a-Service for AI agents: Solana wallets an agent spends from within limits its owner sets.',
        version,
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await docs.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // Declared for the document only: these handlers never run.
  const unserved = async () => {
    throw new WaiaasError('NOT_FOUND');
  };
  for (const route of routes) {
    docs.route({ ...route, handler: unserved } as RouteOptions);
  }
  await docs.ready();
  return docs;
}
