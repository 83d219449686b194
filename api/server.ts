import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TokenGrant } from './auth.ts';
import { Authorizer } from './auth.ts';
import type { ApiContext } from './context.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { PlanService } from './plan-service.ts';
import { problemErrorHandler } from './problem.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerPlanRoutes } from './routes/plans.ts';
import { NotFoundError } from '../domain/errors.ts';
import type { SentinelMetrics } from '../metrics/registry.ts';
import type { Database } from '../store/database.ts';

/** Options for {@link buildApiServer}. */
export interface ApiServerOptions {
  client: Client;
  db: Database;
  metrics: SentinelMetrics;
  tokens?: readonly TokenGrant[];
  /** @default false */
  logger?: boolean;
}

/** The HTTP API: thin routes over PlanService and the store, errors as problem+json. */
export function buildApiServer(options: ApiServerOptions): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1024 * 1024 });
  const ctx: ApiContext = {
    auth: new Authorizer(options.tokens),
    plans: new PlanService(options.client, options.db),
    db: options.db,
  };
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler((request) => {
    throw new NotFoundError(`route ${request.method} ${request.url}`);
  });
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });

  const openapi = buildOpenApiDocument();
  app.get('/openapi.json', () => Promise.resolve(openapi));
  app.get('/healthz', () => Promise.resolve({ ok: true }));
  app.get('/metrics', async (_request, reply) =>
    reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics()),
  );
  registerPlanRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  return app;
}
