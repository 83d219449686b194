import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RolloutKind, RolloutPhase, RolloutSpecSchema, RolloutTargetSchema } from '../../domain/rollout.ts';
import { PromoteRequestSchema, RolloutControlAction } from '../../domain/rollout-messages.ts';
import { ValidationError } from '../../domain/errors.ts';
import { parseOrThrow } from '../../domain/validate.ts';
import type { ApiContext } from '../context.ts';
import { integerParam } from '../query-params.ts';
import type { RolloutService } from '../rollout-service.ts';

/** Path of `/v1/rollouts/:cluster/:namespace/:name…`. */
export const RolloutPath = z.object({
  cluster: RolloutTargetSchema.shape.cluster,
  namespace: RolloutTargetSchema.shape.namespace,
  name: RolloutTargetSchema.shape.name,
});
/** Query of `GET /v1/rollouts`. */
export const RolloutListQuery = z.strictObject({
  phase: z.enum(Object.values(RolloutPhase) as [string, ...string[]]).optional(),
  cluster: RolloutTargetSchema.shape.cluster.optional(),
  namespace: RolloutTargetSchema.shape.namespace.optional(),
  kind: z.enum([RolloutKind.canary, RolloutKind.blueGreen]).optional(),
  running: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  limit: integerParam(1, 500).default(50),
});

/**
 * `/v1/rollouts`: start, read, list and control canary and blue/green rollouts. A rollout's
 * id is its workload, `cluster/namespace/name`, so its paths are `/v1/rollouts/<id>`.
 */
export function registerRolloutRoutes(app: FastifyInstance, ctx: ApiContext, rollouts: RolloutService): void {
  app.post('/v1/rollouts', async (request, reply) => {
    const actor = ctx.auth.require(request, 'operator');
    const spec = parseOrThrow(RolloutSpecSchema, request.body, 'invalid rollout');
    const view = await rollouts.start(spec);
    request.log.info({ rolloutId: view.rolloutId, role: actor }, 'rollout started');
    return reply.code(201).header('location', `/v1/rollouts/${view.rolloutId}`).send(view);
  });

  app.get('/v1/rollouts', async (request) => {
    ctx.auth.require(request, 'viewer');
    const query = parseOrThrow(RolloutListQuery, request.query, 'invalid query');
    return { items: await rollouts.list(query) };
  });

  app.get('/v1/rollouts/:cluster/:namespace/:name', async (request) => {
    ctx.auth.require(request, 'viewer');
    return rollouts.get(parseOrThrow(RolloutPath, request.params, 'invalid path'));
  });

  for (const action of Object.values(RolloutControlAction)) {
    app.post(`/v1/rollouts/:cluster/:namespace/:name/${action}`, async (request) => {
      ctx.auth.require(request, 'operator');
      const target = parseOrThrow(RolloutPath, request.params, 'invalid path');
      const control = parseOrThrow(PromoteRequestSchema, request.body ?? {}, `invalid ${action} request`);
      if (action !== 'promote' && control.full !== undefined)
        throw new ValidationError(`invalid ${action} request`, [
          { path: 'full', message: 'applies to promote only' },
        ]);
      return rollouts.control(target, action, control);
    });
  }
}
