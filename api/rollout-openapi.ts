import { z } from 'zod';
import { RolloutSpecSchema, RolloutStatusSchema } from '../domain/rollout.ts';
import { PromoteRequestSchema, RolloutControlRequestSchema } from '../domain/rollout-messages.ts';

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problem = {
  description: 'Problem details (RFC 9457)',
  content: { 'application/problem+json': { schema: ref('Problem') } },
};

/** Component schemas of the rollout routes, from the zod schemas the handlers validate with. */
export function rolloutSchemas(): Record<string, unknown> {
  return {
    RolloutSpec: json(RolloutSpecSchema, 'input'),
    RolloutStatus: json(RolloutStatusSchema),
  };
}

/** `/v1/rollouts` paths (api/routes/rollouts.ts). A rollout's id is `cluster/namespace/name`. */
export function rolloutPaths(): Record<string, unknown> {
  const params = ['cluster', 'namespace', 'name'].map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const control = (action: string, body: z.ZodType, extra = '') => ({
    post: {
      summary: `${action} a rollout (a Temporal update: the answer says whether it was accepted) (role operator)${extra}`,
      parameters: params,
      requestBody: { content: { 'application/json': { schema: json(body, 'input') } } },
      responses: {
        '200': { description: 'Accepted, with the phase and what happens next' },
        '404': problem,
        '409': { ...problem, description: 'SENTINEL_ERR_CONTROL_REJECTED: the action cannot apply now' },
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
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: ref('RolloutSpec') },
            'application/yaml': { schema: ref('RolloutSpec') },
          },
        },
        responses: {
          '201': { description: 'Started; Location is the rollout' },
          '400': problem,
          '409': { ...problem, description: 'SENTINEL_ERR_CONFLICT: a rollout of this workload is running' },
        },
      },
      get: {
        summary: 'List rollouts from Temporal visibility, newest first (role viewer)',
        parameters: ['phase', 'cluster', 'namespace', 'kind', 'running', 'limit'].map((name) => ({
          name,
          in: 'query',
          schema: { type: name === 'limit' ? 'integer' : 'string' },
        })),
        responses: { '200': { description: 'Rollouts with kind, phase and step' }, '400': problem },
      },
    },
    '/v1/rollouts/{cluster}/{namespace}/{name}': {
      get: {
        summary: 'Get the latest rollout of a workload with its live status (role viewer)',
        parameters: params,
        responses: {
          '200': {
            description: 'The rollout; `status` is the workflow status query, or its result once ended',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    rolloutId: { type: 'string' },
                    workflowId: { type: 'string' },
                    phase: { type: 'string' },
                    status: ref('RolloutStatus'),
                  },
                },
              },
            },
          },
          '404': problem,
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
