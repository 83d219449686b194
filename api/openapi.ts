import { z } from 'zod';
import { ActionPlanSchema, PlanStatusSchema } from '../domain/plan.ts';
import { ControlRequestSchema } from '../domain/plan-messages.ts';

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
