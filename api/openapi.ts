import { z } from 'zod';
import { ActionPlanSchema, PlanStatusSchema } from '../domain/plan.ts';
import { ControlRequestSchema } from '../domain/plan-messages.ts';
import { PolicyDocumentSchema } from '../policy/index.ts';
import { rolloutPaths, rolloutSchemas } from './rollout-openapi.ts';
import {
  PolicyEvaluationSchema,
  PolicyVersionViewSchema,
  PolicyWriteResultSchema,
} from './policy-service.ts';

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });

const problem = {
  description: 'Problem details (RFC 9457)',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

/**
 * OpenAPI 3 document derived from the same zod schemas the handlers validate with, so the
 * contract cannot drift from the code.
 */
export function buildOpenApiDocument(): Record<string, unknown> {
  const planId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const control = (action: string) => ({
    post: {
      summary: `${action} a running plan (a Temporal update; the answer says whether it was accepted)`,
      parameters: [planId],
      requestBody: { content: { 'application/json': { schema: json(ControlRequestSchema, 'input') } } },
      responses: {
        '200': { description: 'Accepted or refused, with the reason' },
        '404': problem,
        '409': problem,
      },
    },
  });
  return {
    openapi: '3.0.3',
    info: {
      title: 'Sentinel API',
      version: '0.1.0',
      description: 'Every change to a workload is a durable Temporal workflow.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ActionPlan: json(ActionPlanSchema, 'input'),
        PlanStatus: json(PlanStatusSchema),
        PolicyDocument: json(PolicyDocumentSchema, 'input'),
        PolicyVersion: json(PolicyVersionViewSchema),
        PolicyWriteResult: json(PolicyWriteResultSchema),
        PolicyEvaluation: json(PolicyEvaluationSchema),
        ...rolloutSchemas(),
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', description: 'Stable SENTINEL_ERR_* code (docs/errors.md)' },
            issues: {
              type: 'array',
              items: {
                type: 'object',
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/plans': {
        post: {
          summary: 'Submit an ActionPlan',
          description:
            'Starts workflow plan/<id>. The plan id is the idempotency key (or send Idempotency-Key and omit id). ' +
            'A single-step plan may put verb, target and params at the top level instead of steps.',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ActionPlan' } } },
          },
          responses: {
            '202': { description: 'Started' },
            '200': { description: 'Already submitted with identical content; nothing new started' },
            '400': problem,
            '409': problem,
          },
        },
        get: {
          summary: 'List plans',
          parameters: [
            { name: 'phase', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', default: 50 } },
          ],
          responses: { '200': { description: 'Plans, newest first' } },
        },
      },
      '/v1/plans/{id}': {
        get: {
          summary: 'Get a plan with its live status',
          parameters: [planId],
          responses: { '200': { description: 'The plan and its status' }, '404': problem },
        },
      },
      '/v1/plans/{id}/pause': control('Pause'),
      '/v1/plans/{id}/resume': control('Resume'),
      '/v1/plans/{id}/abort': control('Abort'),
      ...policyPaths(),
      ...rolloutPaths(),
      '/v1/audit': {
        get: {
          summary: 'Read the audit trail',
          parameters: ['planId', 'workload', 'kind'].map((name) => ({
            name,
            in: 'query',
            schema: { type: 'string' },
          })),
          responses: { '200': { description: 'Audit records in chain order' } },
        },
      },
    },
  };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonOrYaml = (schema: Record<string, unknown>) => ({
  required: true,
  content: {
    'application/json': { schema },
    'application/yaml': { schema },
  },
});

/** `/v1/policies`: versioned policy documents and dry-run evaluation (api/routes/policies.ts). */
function policyPaths(): Record<string, unknown> {
  const policyId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const answer = (description: string, schema: string) => ({
    description,
    content: { 'application/json': { schema: ref(schema) } },
  });
  return {
    '/v1/policies': {
      get: {
        summary: 'List the current version of every policy (role viewer)',
        responses: {
          '200': {
            description: 'Current policy documents, in id order; deleted policies are left out',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { items: { type: 'array', items: ref('PolicyDocument') } },
                },
              },
            },
          },
        },
      },
      post: {
        summary: 'Create a policy (role admin)',
        description:
          'The body is one policy document, as JSON or as YAML (Content-Type application/yaml or text/yaml). ' +
          'The server numbers versions: the stored version is 1, or the next one after a deleted policy. ' +
          'Sending the current content again changes nothing (200); other content under an existing id is a 409 (use PUT).',
        requestBody: jsonOrYaml(ref('PolicyDocument')),
        responses: {
          '201': answer('Created', 'PolicyWriteResult'),
          '200': answer('Identical to the current version; nothing stored', 'PolicyWriteResult'),
          '400': { ...problem, description: 'SENTINEL_ERR_POLICY_INVALID: issues name each bad field' },
          '409': problem,
          '415': problem,
        },
      },
    },
    '/v1/policies/evaluate': {
      post: {
        summary: 'Dry-run a plan against the current policies and the live cluster state (role operator)',
        description:
          'The body is an ActionPlan as POST /v1/plans accepts it (id optional). Each step is evaluated as the plan ' +
          'activity would evaluate it now; no workflow is started and nothing is changed.',
        requestBody: jsonOrYaml(ref('ActionPlan')),
        responses: {
          '200': answer('The decision for each step, and the most severe one', 'PolicyEvaluation'),
          '400': problem,
          '404': { ...problem, description: 'A step names a cluster or workload that does not exist' },
          '503': problem,
        },
      },
    },
    '/v1/policies/{id}': {
      get: {
        summary: 'Get the current version of a policy, or any version with ?version=N (role viewer)',
        parameters: [policyId, { name: 'version', in: 'query', schema: { type: 'integer', minimum: 1 } }],
        responses: {
          '200': answer('The policy version', 'PolicyVersion'),
          '404': { ...problem, description: 'No such policy or version, or (without ?version) deleted' },
        },
      },
      put: {
        summary: 'Store a new version of a policy (role admin)',
        description:
          'The id in the body must equal the id in the path. Creates the policy when it does not exist; ' +
          'content equal to the current version changes nothing.',
        parameters: [policyId],
        requestBody: jsonOrYaml(ref('PolicyDocument')),
        responses: {
          '201': answer('First version stored', 'PolicyWriteResult'),
          '200': answer('New version stored, or nothing changed (see changed)', 'PolicyWriteResult'),
          '400': problem,
          '415': problem,
        },
      },
      delete: {
        summary: 'Delete a policy (role admin); its versions stay readable for the audit',
        parameters: [policyId],
        responses: { '200': answer('The deleted (newest) version', 'PolicyVersion'), '404': problem },
      },
    },
    '/v1/policies/{id}/versions': {
      get: {
        summary: 'Every stored version of a policy, newest first, deleted ones included (role viewer)',
        parameters: [policyId],
        responses: {
          '200': {
            description: 'Versions, newest first',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { items: { type: 'array', items: ref('PolicyVersion') } },
                },
              },
            },
          },
          '404': problem,
        },
      },
    },
  };
}
