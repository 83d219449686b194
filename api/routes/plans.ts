import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ActionPlanInputSchema, PLAN_ID_PATTERN, PlanPhase } from '../../domain/plan.ts';
import { ControlRequestSchema } from '../../domain/plan-messages.ts';
import { parseOrThrow } from '../../domain/validate.ts';
import type { ApiContext } from '../context.ts';
import { integerParam } from '../query-params.ts';

/** Path of `/v1/plans/:id…`. */
export const PlanIdParams = z.object({ id: z.string().regex(PLAN_ID_PATTERN, 'not a valid plan id') });
/** Query of `GET /v1/plans`. */
export const PlanListQuery = z.strictObject({
  phase: z.enum(Object.values(PlanPhase) as [string, ...string[]]).optional(),
  limit: integerParam(1, 500).default(50),
});

/** `/v1/plans`: submit, read, list and control ActionPlans. */
export function registerPlanRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v1/plans', async (request, reply) => {
    const actor = ctx.auth.require(request, 'operator');
    const body = request.body;
    // The plan id is the idempotency key; a client may send it as the Idempotency-Key header instead.
    if (body !== null && typeof body === 'object' && !Array.isArray(body) && !('id' in body)) {
      const key = request.headers['idempotency-key'];
      (body as Record<string, unknown>).id = typeof key === 'string' && key ? key : randomUUID();
    }
    const plan = parseOrThrow(ActionPlanInputSchema, body, 'invalid ActionPlan');
    const { created, view } = await ctx.plans.submit(plan);
    request.log.info({ planId: plan.id, created, role: actor }, 'plan submitted');
    return reply
      .code(created ? 202 : 200)
      .header('location', `/v1/plans/${encodeURIComponent(plan.id)}`)
      .send({ created, ...view });
  });

  app.get('/v1/plans', async (request) => {
    ctx.auth.require(request, 'viewer');
    const query = parseOrThrow(PlanListQuery, request.query, 'invalid query');
    return { items: await ctx.plans.list(query) };
  });

  app.get('/v1/plans/:id', async (request) => {
    ctx.auth.require(request, 'viewer');
    const { id } = parseOrThrow(PlanIdParams, request.params, 'invalid path');
    return ctx.plans.get(id);
  });

  for (const action of ['pause', 'resume', 'abort'] as const) {
    app.post(`/v1/plans/:id/${action}`, async (request) => {
      ctx.auth.require(request, 'operator');
      const { id } = parseOrThrow(PlanIdParams, request.params, 'invalid path');
      const control = parseOrThrow(ControlRequestSchema, request.body ?? {}, `invalid ${action} request`);
      return ctx.plans.control(id, action, control);
    });
  }
}
