import { ActionPlanSchema, PlanStatusSchema } from '../domain/plan.ts';
import { ControlRequestSchema } from '../domain/plan-messages.ts';
import { PolicyDocumentSchema } from '../policy/index.ts';
import { answer, AUTH_ERRORS, body, itemsOf, json, parametersOf, problems, ref } from './openapi-parts.ts';
import {
  PolicyEvaluationSchema,
  PolicyVersionViewSchema,
  PolicyWriteResultSchema,
} from './policy-service.ts';
import { rolloutPaths, rolloutSchemas } from './rollout-openapi.ts';
import { AuditQuery } from './routes/audit.ts';
import { PlanIdParams, PlanListQuery } from './routes/plans.ts';
import { PolicyGetQuery, PolicyIdParams, PolicyVersionParams } from './routes/policies.ts';

/**
 * OpenAPI 3 document derived from the same zod schemas the handlers validate with (bodies,
 * path and query parameters), listing every status each route can answer, so the contract
 * cannot drift from the code. `test/integration/api-schemathesis.test.ts` holds the API to it.
 */
export function buildOpenApiDocument(): Record<string, unknown> {
  const planId = parametersOf(PlanIdParams, 'path');
  const control = (action: string) => ({
    post: {
      summary: `${action} a running plan (a Temporal update; the answer says whether it was accepted) (role operator)`,
      parameters: planId,
      requestBody: body(json(ControlRequestSchema, 'input'), { required: false }),
      responses: {
        '200': answer('Accepted or refused, with the reason'),
        ...problems(400, ...AUTH_ERRORS, 404, 409, 415, 503),
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
          summary: 'Submit an ActionPlan (role operator)',
          description:
            'Starts workflow plan/<id>. The plan id is the idempotency key (or send Idempotency-Key and omit id). ' +
            'A single-step plan may put verb, target and params at the top level instead of steps.',
          requestBody: body(ref('ActionPlan')),
          responses: {
            '202': answer('Started'),
            '200': answer('Already submitted with identical content; nothing new started'),
            ...problems(400, ...AUTH_ERRORS, 409, 415, 503),
          },
        },
        get: {
          summary: 'List plans, newest first (role viewer)',
          parameters: parametersOf(PlanListQuery, 'query'),
          responses: { '200': answer('Plans, newest first'), ...problems(400, ...AUTH_ERRORS) },
        },
      },
      '/v1/plans/{id}': {
        get: {
          summary: 'Get a plan with its live status (role viewer)',
          parameters: planId,
          responses: {
            '200': answer('The plan and its status'),
            ...problems(400, ...AUTH_ERRORS, 404, 503),
          },
        },
      },
      '/v1/plans/{id}/pause': control('Pause'),
      '/v1/plans/{id}/resume': control('Resume'),
      '/v1/plans/{id}/abort': control('Abort'),
      ...policyPaths(),
      ...rolloutPaths(),
      '/v1/audit': {
        get: {
          summary: 'Read the audit trail (role viewer)',
          parameters: parametersOf(AuditQuery, 'query'),
          responses: { '200': answer('Audit records in chain order'), ...problems(400, ...AUTH_ERRORS) },
        },
      },
    },
  };
}

/** `/v1/policies`: versioned policy documents and dry-run evaluation (api/routes/policies.ts). */
function policyPaths(): Record<string, unknown> {
  const policyId = parametersOf(PolicyIdParams, 'path');
  return {
    '/v1/policies': {
      get: {
        summary: 'List the current version of every policy (role viewer)',
        responses: {
          '200': answer(
            'Current policy documents, in id order; deleted policies are left out',
            itemsOf(ref('PolicyDocument')),
          ),
          ...problems(...AUTH_ERRORS),
        },
      },
      post: {
        summary: 'Create a policy (role admin)',
        description:
          'The body is one policy document, as JSON or as YAML (Content-Type application/yaml or text/yaml). ' +
          'The server numbers versions: the stored version is 1, or the next one after a deleted policy. ' +
          'Sending the current content again changes nothing (200); other content under an existing id is a 409 (use PUT).',
        requestBody: body(ref('PolicyDocument'), { yaml: true }),
        responses: {
          '201': answer('Created', ref('PolicyWriteResult')),
          '200': answer('Identical to the current version; nothing stored', ref('PolicyWriteResult')),
          ...problems(400, ...AUTH_ERRORS, 409, 415),
        },
      },
    },
    '/v1/policies/evaluate': {
      post: {
        summary: 'Dry-run a plan against the current policies and the live cluster state (role operator)',
        description:
          'The body is an ActionPlan as POST /v1/plans accepts it (id optional). Each step is evaluated as the plan ' +
          'activity would evaluate it now; no workflow is started and nothing is changed. A step that names a ' +
          'cluster or workload that does not exist is a 404.',
        requestBody: body(ref('ActionPlan'), { yaml: true }),
        responses: {
          '200': answer('The decision for each step, and the most severe one', ref('PolicyEvaluation')),
          ...problems(400, ...AUTH_ERRORS, 404, 415, 503),
        },
      },
    },
    '/v1/policies/{id}': {
      get: {
        summary:
          'Get the current version of a policy, or any version of a policy not deleted with ?version=N (role viewer)',
        description:
          'A deleted policy is a 404 here, with or without ?version; its versions stay readable for the audit ' +
          'under GET /v1/policy-history/{id}.',
        parameters: [...policyId, ...parametersOf(PolicyGetQuery, 'query')],
        responses: {
          '200': answer('The policy version', ref('PolicyVersion')),
          ...problems(400, ...AUTH_ERRORS, 404),
        },
      },
      put: {
        summary: 'Store a new version of a policy (role admin)',
        description:
          'The id in the body must equal the id in the path. Creates the policy when it does not exist; ' +
          'content equal to the current version changes nothing.',
        parameters: policyId,
        requestBody: body(ref('PolicyDocument'), { yaml: true }),
        responses: {
          '201': answer('First version stored', ref('PolicyWriteResult')),
          '200': answer('New version stored, or nothing changed (see changed)', ref('PolicyWriteResult')),
          ...problems(400, ...AUTH_ERRORS, 415),
        },
      },
      delete: {
        summary: 'Delete a policy (role admin); its versions stay readable under /v1/policy-history/{id}',
        parameters: policyId,
        responses: {
          '200': answer('The deleted (newest) version', ref('PolicyVersion')),
          ...problems(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    '/v1/policies/{id}/versions': {
      get: {
        summary: 'Every stored version of a policy not deleted, newest first (role viewer)',
        parameters: policyId,
        responses: {
          '200': answer('Versions, newest first', itemsOf(ref('PolicyVersion'))),
          ...problems(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    '/v1/policy-history/{id}/{version}': {
      get: {
        summary: 'One stored version of a policy, deleted or not (role viewer)',
        description: 'What `sentinel audit verify` reads to re-evaluate a recorded decision.',
        parameters: parametersOf(PolicyVersionParams, 'path'),
        responses: {
          '200': answer('The version', ref('PolicyVersion')),
          ...problems(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    '/v1/policy-history/{id}': {
      get: {
        summary: 'Every stored version of a policy, newest first, deleted ones included (role viewer)',
        description: 'The audit view: a deleted policy keeps its history here.',
        parameters: policyId,
        responses: {
          '200': answer('Versions, newest first', itemsOf(ref('PolicyVersion'))),
          ...problems(400, ...AUTH_ERRORS, 404),
        },
      },
    },
  };
}
