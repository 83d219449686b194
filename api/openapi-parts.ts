import { z } from 'zod';
import { ErrorCodes, type ErrorCode } from '../domain/errors.ts';

/**
 * Building blocks of the OpenAPI document (api/openapi.ts, api/rollout-openapi.ts). Every
 * parameter and body schema is converted from the zod schema its route validates with, so
 * what the document allows is what the route accepts.
 */

/** A zod schema as OpenAPI 3.0 JSON Schema; `input` for what a client sends. */
export const json = (schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });

/** `$ref` to a component schema. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/**
 * The parameters of a route from the zod object it validates `request.params` or
 * `request.query` with: one per field, required unless the field takes `undefined`.
 */
export function parametersOf(schema: z.ZodObject, where: 'path' | 'query'): Record<string, unknown>[] {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
    schema: json(field as z.ZodType, 'input'),
  }));
}

/** Which registry codes each error status of the API stands for (docs/errors.md). */
const CODES_BY_STATUS = Object.entries(ErrorCodes).reduce<Record<number, ErrorCode[]>>(
  (byStatus, [code, { status }]) => {
    (byStatus[status] ??= []).push(code as ErrorCode);
    return byStatus;
  },
  {},
);

const WHY: Record<number, string> = {
  400: 'The path, query or body failed validation; `issues` names each field',
  401: 'API tokens are configured and the request has no known bearer token',
  403: "The token's role is below what the route needs",
  404: 'No such resource',
  409: 'Conflicts with the current state',
  415: 'The body is not JSON (or YAML where the route takes it)',
  503: 'Temporal or another dependency could not be reached; retry later',
};

/** Problem+json answers for the given statuses, each naming its registry codes. */
export function problems(...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: `${WHY[status] ?? 'Error'} (${(CODES_BY_STATUS[status] ?? []).join(', ')})`,
        content: { 'application/problem+json': { schema: ref('Problem') } },
      },
    ]),
  );
}

/** Answers every route can give: 401 and 403 when tokens are configured. */
export const AUTH_ERRORS = [401, 403] as const;

/** A JSON answer with a schema. */
export const answer = (description: string, schema?: Record<string, unknown>) => ({
  description,
  ...(schema ? { content: { 'application/json': { schema } } } : {}),
});

/** `{ items: [...] }` of `item`. */
export const itemsOf = (item: Record<string, unknown>) => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: item } },
});

/** A request body in JSON, and in YAML where the route takes it. */
export function body(
  schema: Record<string, unknown>,
  options: { required?: boolean; yaml?: boolean } = {},
): Record<string, unknown> {
  return {
    required: options.required ?? true,
    content: {
      'application/json': { schema },
      ...(options.yaml ? { 'application/yaml': { schema } } : {}),
    },
  };
}
