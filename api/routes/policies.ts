import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ActionPlanInputSchema } from '../../domain/plan.ts';
import { parseOrThrow } from '../../domain/validate.ts';
import { POLICY_ID_PATTERN } from '../../policy/index.ts';
import type { ApiContext } from '../context.ts';
import { integerParam } from '../query-params.ts';

/** Path of `/v1/policies/:id…`. */
export const PolicyIdParams = z.object({
  id: z.string().max(253).regex(POLICY_ID_PATTERN, 'not a valid policy id'),
});
/** Path of `/v1/policy-history/:id/:version`. */
export const PolicyVersionParams = PolicyIdParams.extend({
  version: integerParam(1, 2_147_483_647),
});
/** Query of `GET /v1/policies/:id`. */
export const PolicyGetQuery = z.strictObject({
  version: integerParam(1, 2_147_483_647).optional(),
});

/** Who stored a version: the name the caller gives in `X-Sentinel-Actor`, with the role it acted as. */
function actorOf(request: FastifyRequest, role: string): string {
  const name = request.headers['x-sentinel-actor'];
  return typeof name === 'string' && name.trim() !== '' ? `${name.trim().slice(0, 200)} (${role})` : role;
}

/**
 * `/v1/policies`: versioned policy documents (JSON, or YAML with `Content-Type: application/yaml`)
 * and dry-run evaluation of a plan against them.
 */
export function registerPolicyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/policies', async (request) => {
    ctx.auth.require(request, 'viewer');
    return { items: await ctx.policies.listCurrent() };
  });

  app.get('/v1/policies/:id', async (request) => {
    ctx.auth.require(request, 'viewer');
    const { id } = parseOrThrow(PolicyIdParams, request.params, 'invalid path');
    const { version } = parseOrThrow(PolicyGetQuery, request.query, 'invalid query');
    return ctx.policies.get(id, version);
  });

  app.get('/v1/policies/:id/versions', async (request) => {
    ctx.auth.require(request, 'viewer');
    const { id } = parseOrThrow(PolicyIdParams, request.params, 'invalid path');
    return { items: await ctx.policies.versions(id) };
  });

  // The audit's view, apart from /v1/policies/:id so that a deleted policy is gone from there.
  app.get('/v1/policy-history/:id', async (request) => {
    ctx.auth.require(request, 'viewer');
    const { id } = parseOrThrow(PolicyIdParams, request.params, 'invalid path');
    return { items: await ctx.policies.history(id) };
  });

  app.get('/v1/policy-history/:id/:version', async (request) => {
    ctx.auth.require(request, 'viewer');
    const { id, version } = parseOrThrow(PolicyVersionParams, request.params, 'invalid path');
    return ctx.policies.history(id, version);
  });

  app.post('/v1/policies', async (request, reply) => {
    const role = ctx.auth.require(request, 'admin');
    const result = await ctx.policies.create(request.body, actorOf(request, role));
    request.log.info(
      { policyId: result.id, version: result.version, changed: result.changed },
      'policy created',
    );
    return reply
      .code(result.changed ? 201 : 200)
      .header('location', `/v1/policies/${encodeURIComponent(result.id)}`)
      .send(result);
  });

  app.put('/v1/policies/:id', async (request, reply) => {
    const role = ctx.auth.require(request, 'admin');
    const { id } = parseOrThrow(PolicyIdParams, request.params, 'invalid path');
    const result = await ctx.policies.put(id, request.body, actorOf(request, role));
    request.log.info({ policyId: id, version: result.version, changed: result.changed }, 'policy stored');
    return reply.code(result.changed && result.previousVersion === null ? 201 : 200).send(result);
  });

  app.delete('/v1/policies/:id', async (request) => {
    ctx.auth.require(request, 'admin');
    const { id } = parseOrThrow(PolicyIdParams, request.params, 'invalid path');
    const deleted = await ctx.policies.delete(id);
    request.log.info({ policyId: id, version: deleted.version }, 'policy deleted');
    return deleted;
  });

  app.post('/v1/policies/evaluate', async (request) => {
    ctx.auth.require(request, 'operator');
    const body = request.body;
    // A dry run needs no id; the same body as POST /v1/plans is accepted with or without one.
    if (body !== null && typeof body === 'object' && !Array.isArray(body) && !('id' in body)) {
      const key = request.headers['idempotency-key'];
      (body as Record<string, unknown>).id = typeof key === 'string' && key ? key : `dry-run-${randomUUID()}`;
    }
    const plan = parseOrThrow(ActionPlanInputSchema, body, 'invalid ActionPlan');
    return ctx.policies.evaluate(plan);
  });
}
