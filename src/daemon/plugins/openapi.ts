import fastifySwagger from '@fastify/swagger';
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { WaiaasError } from '../../core/errors.ts';

/**
 * The OpenAPI document is generated from the same zod schemas that validate requests, so the two
 * cannot drift. Registered before any route so every route is collected; the document itself is built
 * on the first request for it.
 *
 * The Swagger UI at /docs (a static-file server and the UI's assets) is loaded on the first visit,
 * into an app of its own that reads this app's document: most daemons never serve it, and loaded at
 * start it would cost every daemon its modules.
 */
/**
 * Stands in for @fastify/swagger in the UI's app (the UI requires a plugin of that name): its
 * `swagger()` is this app's.
 */
const thisAppsDocument = (app: FastifyInstance): FastifyPluginAsync => {
  const plugin: FastifyPluginAsync = async (ui) => {
    ui.decorate('swagger', app.swagger.bind(app));
  };
  // What fastify-plugin sets: no encapsulation, and the name other plugins depend on.
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('plugin-meta')]: { name: '@fastify/swagger' },
  });
};

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(fastifySwagger, {
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
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  let docs: Promise<FastifyInstance> | undefined;
  const docsApp = () => {
    docs ??= (async () => {
      const { default: fastifySwaggerUi } = await import('@fastify/swagger-ui');
      const ui = Fastify({ logger: false });
      await ui.register(thisAppsDocument(app));
      await ui.register(fastifySwaggerUi, { routePrefix: '/docs' });
      await ui.ready();
      return ui;
    })().catch((error: unknown) => {
      docs = undefined;
      throw error;
    });
    return docs;
  };
  const serveDocs = async (request: FastifyRequest, reply: FastifyReply) => {
    const ui = await docsApp();
    const answer = await ui.inject({ method: 'GET', url: request.url, headers: request.headers });
    if (answer.statusCode === 404) throw new WaiaasError('NOT_FOUND', { message: `No page ${request.url}.` });
    const { connection: _connection, 'transfer-encoding': _encoding, ...headers } = answer.headers;
    return reply.status(answer.statusCode).headers(headers).send(answer.rawPayload);
  };
  app.addHook('onClose', async () => {
    await (await docs?.catch(() => undefined))?.close();
  });
  app.get('/docs', { schema: { hide: true } }, serveDocs);
  app.get('/docs/*', { schema: { hide: true } }, serveDocs);
}
