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
import { NotFoundError } from '../domain/errors.ts';
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
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: MAX_BODY_BYTES });
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
