import type { z } from 'zod';
import { RolloutSpecSchema, RolloutStatusSchema } from '../domain/rollout.ts';
import { PromoteRequestSchema, RolloutControlRequestSchema } from '../domain/rollout-messages.ts';
import { answer, AUTH_ERRORS, body, json, parametersOf, problems, ref } from './openapi-parts.ts';
import { RolloutListQuery, RolloutPath } from './routes/rollouts.ts';

/** Component schemas of the rollout routes, from the zod schemas the handlers validate with. */
export function rolloutSchemas(): Record<string, unknown> {
  return {
    RolloutSpec: json(RolloutSpecSchema, 'input'),
    RolloutStatus: json(RolloutStatusSchema),
  };
}

/** `/v1/rollouts` paths (api/routes/rollouts.ts). A rollout's id is `cluster/namespace/name`. */
export function rolloutPaths(): Record<string, unknown> {
  const params = parametersOf(RolloutPath, 'path');
  const control = (action: string, request: z.ZodType, extra = '') => ({
    post: {
      summary: `${action} a rollout (a Temporal update: the answer says whether it was accepted) (role operator)${extra}`,
      parameters: params,
      requestBody: body(json(request, 'input'), { required: false }),
      responses: {
        '200': answer('Accepted, with the phase and what happens next'),
        ...problems(400, ...AUTH_ERRORS, 404, 409, 415, 503),
      },
    },
  });
  return {
    '/v1/rollouts': {
      post: {
        summary: 'Start a canary or blue/green rollout (role operator)',
        description:
          'Starts workflow rollout/<cluster>/<namespace>/<name>. One rollout runs per workload: a second start ' +
          'while one runs is a 409. The body is JSON or YAML (application/yaml). See docs/rollouts.md.',
        requestBody: body(ref('RolloutSpec'), { yaml: true }),
        responses: {
          '201': answer('Started; Location is the rollout'),
          ...problems(400, ...AUTH_ERRORS, 409, 415, 503),
        },
      },
      get: {
        summary: 'List rollouts from Temporal visibility, newest first (role viewer)',
        parameters: parametersOf(RolloutListQuery, 'query'),
        responses: {
          '200': answer('Rollouts with kind, phase and step'),
          ...problems(400, ...AUTH_ERRORS, 503),
        },
      },
    },
    '/v1/rollouts/{cluster}/{namespace}/{name}': {
      get: {
        summary: 'Get the latest rollout of a workload with its live status (role viewer)',
        parameters: params,
        responses: {
          '200': answer('The rollout; `status` is the workflow status query, or its result once ended', {
            type: 'object',
            properties: {
              rolloutId: { type: 'string' },
              workflowId: { type: 'string' },
              phase: { type: 'string' },
              status: { nullable: true, allOf: [ref('RolloutStatus')] },
            },
          }),
          ...problems(400, ...AUTH_ERRORS, 404, 503),
        },
      },
    },
    '/v1/rollouts/{cluster}/{namespace}/{name}/pause': control('Pause', RolloutControlRequestSchema),
    '/v1/rollouts/{cluster}/{namespace}/{name}/resume': control('Resume', RolloutControlRequestSchema),
    '/v1/rollouts/{cluster}/{namespace}/{name}/abort': control('Abort', RolloutControlRequestSchema),
    '/v1/rollouts/{cluster}/{namespace}/{name}/promote': control(
      'Promote',
      PromoteRequestSchema,
      '; `full: true` skips every remaining step',
    ),
  };
}
