import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../stack/local-stack.ts';
import { startTestStack } from '../support/stack.ts';

// No malformed body is a server error: every mutating route of the OpenAPI document (so a new
// route is covered without touching this file) answers each of these with a 4xx problem+json.

/** `{"key":{"key":…value…}}`, `depth` levels deep, as text (JSON.stringify would itself overflow). */
function nested(depth: number, key: string, valueJson: string): string {
  return `{"${key}":`.repeat(depth) + valueJson + '}'.repeat(depth);
}

function nestedArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** A rollout body whose `strategy` is the given JSON text. */
function rolloutWithStrategy(strategyJson: string): string {
  return JSON.stringify(rollout).replace(/}$/, `,"strategy":${strategyJson}}`);
}

const rollout = {
  target: { cluster: 'local', namespace: 'web', name: 'frontend' },
  template: { containers: [{ name: 'server', image: 'registry.local/inference:v2' }] },
  requestedBy: 'fuzz',
  reason: 'malformed bodies',
};

/** Body, content type and name of each malformed request. */
const MALFORMED: { name: string; contentType: string; body: string }[] = [
  // issue 14 item 17: a strategy nested thousands of levels deep answered 500.
  {
    name: 'strategy nested 5000 levels deep',
    contentType: 'application/json',
    body: rolloutWithStrategy(nested(5000, 'blueGreen', '{"activeService":"web"}')),
  },
  {
    name: 'strategy with an unknown key nested 3000 levels deep',
    contentType: 'application/json',
    body: rolloutWithStrategy(`{"x":${nested(3000, 'x', '1')}}`),
  },
  {
    name: 'empty strategy',
    contentType: 'application/json',
    body: rolloutWithStrategy('{}'),
  },
  { name: 'arrays nested 200000 deep', contentType: 'application/json', body: nestedArray(200_000) },
  {
    name: 'objects nested 100 deep',
    contentType: 'application/json',
    body: nested(100, 'a', '1'),
  },
  {
    name: 'YAML flow sequences nested 50000 deep',
    contentType: 'application/yaml',
    body: nestedArray(50_000),
  },
  {
    name: 'YAML block mappings nested 300 deep',
    contentType: 'application/yaml',
    body: Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n',
  },
  {
    name: 'a 2 MiB string',
    contentType: 'application/json',
    body: JSON.stringify({ reason: 'x'.repeat(2 << 20) }),
  },
  {
    name: '100000 unknown keys',
    contentType: 'application/json',
    body: JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]))),
  },
  { name: 'not JSON', contentType: 'application/json', body: '{"target": ' },
  { name: 'JSON null', contentType: 'application/json', body: 'null' },
  { name: 'a number', contentType: 'application/json', body: '42' },
  { name: 'a string', contentType: 'application/json', body: '"rollout"' },
  { name: 'an array', contentType: 'application/json', body: '[{"id": "a"}]' },
  {
    name: 'wrong types everywhere',
    contentType: 'application/json',
    body: JSON.stringify({
      id: 1,
      steps: 'x',
      target: [],
      full: 'yes',
      actor: {},
      reason: 7,
      strategy: 5,
      rule: null,
    }),
  },
  { name: 'prototype pollution', contentType: 'application/json', body: '{"__proto__": {"admin": true}}' },
  { name: 'an unknown media type', contentType: 'application/x-www-form-urlencoded', body: 'a=1' },
];

describe('malformed request bodies', () => {
  let stack: LocalStack;
  let routes: { method: string; path: string }[];

  beforeAll(async () => {
    stack = await startTestStack();
    const openapi = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const fill = (path: string) =>
      path
        .replace('{cluster}', 'local')
        .replace('{namespace}', 'web')
        .replace('{name}', 'frontend')
        .replace('{id}', 'fuzz-target');
    routes = Object.entries(openapi.paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => ({ method: method.toUpperCase(), path: fill(path) })),
    );
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('covers every mutating route of the OpenAPI document', () => {
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'POST /v1/plans',
        'POST /v1/plans/fuzz-target/abort',
        'POST /v1/policies',
        'PUT /v1/policies/fuzz-target',
        'DELETE /v1/policies/fuzz-target',
        'POST /v1/policies/evaluate',
        'POST /v1/rollouts',
        'POST /v1/rollouts/local/web/frontend/promote',
      ]),
    );
  });

  it.each(MALFORMED)(
    'answers $name with a 4xx problem on every mutating route',
    async ({ contentType, body }) => {
      const failures: string[] = [];
      for (const route of routes) {
        const response = await fetch(`${stack.apiUrl}${route.path}`, {
          method: route.method,
          headers: { 'content-type': contentType },
          body,
        });
        const text = await response.text();
        const isProblem =
          response.headers.get('content-type')?.startsWith('application/problem+json') ?? false;
        // A wrong-typed control body (null, a number) can still be a valid empty request: that
        // one reaches the (absent) plan or rollout and is a 404, a 4xx all the same.
        if (response.status < 400 || response.status >= 500 || !isProblem)
          failures.push(`${route.method} ${route.path} → ${response.status} ${text.slice(0, 300)}`);
        else
          expect(JSON.parse(text)).toMatchObject({
            status: response.status,
            code: expect.stringMatching(/^SENTINEL_ERR_/) as unknown,
          });
      }
      expect(failures).toEqual([]);
    },
  );

  // Found by a QA pass after the body fixes: URLs Fastify refused before any route ran.
  it.each([
    ['bad percent-encoding', '/v1/plans/%FF'],
    ['an encoded lone surrogate', '/v1/plans/%ED%A0%80'],
    ['a 5,000-character id', `/v1/plans/${'x'.repeat(5000)}`],
    ['a 5,000-character rollout name', `/v1/rollouts/local/web/${'x'.repeat(5000)}`],
  ])('answers a URL with %s with a 400 problem', async (_name, path) => {
    const response = await fetch(`${stack.apiUrl}${path}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 400, code: 'SENTINEL_ERR_VALIDATION' });
  });

  // An unknown query parameter was ignored, so a misspelt filter answered the unfiltered list.
  it.each(['/v1/audit?since=notadate', '/v1/plans?foo=bar', '/v1/rollouts?phasee=Paused'])(
    'answers %s (an unknown query parameter) with a 400 naming it',
    async (path) => {
      const response = await fetch(`${stack.apiUrl}${path}`);
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { detail: string };
      expect(problem.detail).toContain(new URL(path, 'http://x').searchParams.keys().next().value!);
    },
  );

  it('names the problem of the deeply nested strategy (the input of issue 14 item 17)', async () => {
    const response = await fetch(`${stack.apiUrl}/v1/rollouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: MALFORMED[0]!.body,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'SENTINEL_ERR_VALIDATION',
      detail: expect.stringMatching(/nests deeper than 64 levels/) as unknown,
    });
  });
});
