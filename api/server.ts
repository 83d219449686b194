import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TokenGrant } from './auth.ts';
import { Authorizer } from './auth.ts';
import type { ApiContext } from './context.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { PlanService } from './plan-service.ts';
import { PolicyService } from './policy-service.ts';
import { problemErrorHandler } from './problem.ts';
import { MAX_BODY_BYTES, registerBodyParsers } from './request-body.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerPlanRoutes } from './routes/plans.ts';
import { registerPolicyRoutes } from './routes/policies.ts';
import { RolloutService } from './rollout-service.ts';
import { registerRolloutRoutes } from './routes/rollouts.ts';
import { NotFoundError, SentinelError } from '../domain/errors.ts';
import type { ClusterRegistry } from '../k8s/index.ts';
import { registerPlanPhaseGauge, type SentinelMetrics } from '../metrics/registry.ts';
import { countPlansByPhase } from '../store/plans.ts';
import type { Database } from '../store/database.ts';

/** Options for {@link buildApiServer}. */
export interface ApiServerOptions {
  client: Client;
  db: Database;
  metrics: SentinelMetrics;
  tokens?: readonly TokenGrant[];
  /** @default false */
  logger?: boolean;
  /** Clusters to read live state from, for dry-run policy evaluation; without it that answers 503. */
  clusters?: ClusterRegistry;
}

/** The HTTP API: thin routes over PlanService and the store, errors as problem+json. */
export function buildApiServer(options: ApiServerOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: MAX_BODY_BYTES,
    // Path parameters are validated by the routes (a 400 naming the field), not cut at 100
    // characters with a 414 the document cannot list.
    // Long enough that Node's own 16 KiB header limit is reached first.
    routerOptions: { maxParamLength: 16_384 },
    // A URL Fastify cannot decode (bad percent-encoding) is a 400 problem like any other.
    frameworkErrors: (error, request, reply) => {
      void problemErrorHandler(error, request, reply);
    },
    // Only the methods the OpenAPI document lists; HEAD and the rest are a 405 with Allow.
    exposeHeadRoutes: false,
  });
  const ctx: ApiContext = {
    auth: new Authorizer(options.tokens),
    plans: new PlanService(options.client, options.db, options.clusters),
    db: options.db,
    policies: new PolicyService(options.db, options.clusters),
    ...(options.clusters ? { clusters: options.clusters } : {}),
  };
  app.setErrorHandler(problemErrorHandler);
  registerBodyParsers(app);
  app.setNotFoundHandler((request) => {
    throw new NotFoundError(`route ${request.method} ${request.url}`);
  });
  rejectUnlistedMethods(app);
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });

  registerPlanPhaseGauge(options.metrics.registry, () => countPlansByPhase(options.db));
  const openapi = buildOpenApiDocument();
  app.get('/openapi.json', () => Promise.resolve(openapi));
  app.get('/healthz', () => Promise.resolve({ ok: true }));
  app.get('/metrics', async (_request, reply) =>
    reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics()),
  );
  registerPlanRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerPolicyRoutes(app, ctx);
  registerRolloutRoutes(app, ctx, new RolloutService(options.client, options.clusters));
  return app;
}

/**
 * A path the API serves, asked with a method it does not serve there, is a 405 naming the
 * methods it does (`Allow`), answered before the body is read; an unknown path stays a 404.
 */
function rejectUnlistedMethods(app: FastifyInstance): void {
  const routes: { pattern: RegExp; params: number; method: string }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+')}$`);
    const params = (route.url.match(/:/g) ?? []).length;
    for (const method of [route.method].flat()) routes.push({ pattern, params, method });
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?')[0]!;
    const matching = routes.filter((r) => r.pattern.test(path));
    // As the router does: a static segment wins over a parameter (`/v1/policies/evaluate`
    // is not `/v1/policies/:id`).
    const fewest = Math.min(...matching.map((r) => r.params));
    const allowed = [...new Set(matching.filter((r) => r.params === fewest).map((r) => r.method))];
    if (allowed.length === 0) return;
    void reply.header('allow', allowed.join(', '));
    throw new SentinelError(
      'SENTINEL_ERR_METHOD_NOT_ALLOWED',
      `${request.method} is not served at ${path}; allowed: ${allowed.join(', ')}`,
    );
  });
}
