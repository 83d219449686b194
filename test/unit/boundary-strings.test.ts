import { describe, expect, it } from 'vitest';
import { ActionPlanInputSchema } from '../../domain/plan.ts';
import { RolloutSpecSchema } from '../../domain/rollout.ts';
import {
  envVarName,
  jsonValue,
  labelKey,
  storableTextProblem,
  text,
  toStorableText,
} from '../../domain/strings.ts';
import { fieldIssues } from '../../domain/validate.ts';
import { PolicyDocumentSchema } from '../../policy/schema.ts';
import { isDataRejectedError, sqlStateOf } from '../../store/errors.ts';

const NUL = 'must not contain the NUL character (U+0000)';
const SURROGATE = 'must not contain a lone UTF-16 surrogate (not valid Unicode)';
const issues = (result: { success: boolean; error?: unknown }) =>
  result.success ? [] : fieldIssues(result.error as Parameters<typeof fieldIssues>[0]);

describe('storable text', () => {
  it('refuses NUL and lone surrogates and keeps every well-formed string', () => {
    expect(storableTextProblem('a\u0000b')).toBe(NUL);
    expect(storableTextProblem('\ud800')).toBe(SURROGATE);
    expect(storableTextProblem('x\udc00')).toBe(SURROGATE);
    expect(storableTextProblem('\udc00\ud800')).toBe(SURROGATE);
    for (const ok of ['', 'plain', '😀 emoji pair', 'tab\tnewline\n', 'ünïcödé', '\u00ff\uffff'])
      expect(storableTextProblem(ok)).toBeUndefined();
  });

  it('makes text Sentinel writes itself storable, replacing only what is refused', () => {
    expect(toStorableText('a\u0000b\ud800c😀')).toBe('a\uFFFDb\uFFFDc😀');
    expect(storableTextProblem(toStorableText('\udc00\ud800'))).toBeUndefined();
  });

  it('bounds the length: the default, or the one a field names', () => {
    expect(text().safeParse('x'.repeat(4096)).success).toBe(true);
    expect(text().safeParse('x'.repeat(4097)).success).toBe(false);
    expect(text({ min: 1, max: 3 }).safeParse('').success).toBe(false);
    expect(text({ min: 1, max: 3 }).safeParse('abcd').success).toBe(false);
  });

  it('checks every string of a free-form JSON value, keys included, at its own path', () => {
    const result = jsonValue.safeParse({ a: ['ok', 'b\u0000'], ['k\ud800']: 1 });
    expect(issues(result)).toEqual([
      { path: 'a.1', message: NUL },
      { path: 'k\ud800', message: `key ${SURROGATE}` },
    ]);
  });

  it('validates Kubernetes keys and env names as the apiserver does', () => {
    expect(labelKey.safeParse('nvidia.com/gpu').success).toBe(true);
    expect(labelKey.safeParse('bad key').success).toBe(false);
    expect(envVarName.safeParse('MODEL_NAME').success).toBe(true);
    expect(envVarName.safeParse('A=B').success).toBe(false);
    expect(envVarName.safeParse('A\u0000').success).toBe(false);
  });
});

describe('every boundary schema refuses what PostgreSQL refuses', () => {
  const target = { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'inference' };
  const header = { id: 'p-1', requestedBy: 'alice', reason: 'load forecast' };

  it('names the env value of a plan step that carries NUL (issue 14 item 12)', () => {
    const result = ActionPlanInputSchema.safeParse({
      ...header,
      verb: 'update',
      target,
      params: { container: 'server', env: { MODEL_NAME: 'llama\u0000' } },
    });
    expect(issues(result)).toEqual([{ path: 'steps.0.params.env.MODEL_NAME', message: NUL }]);
  });

  it('checks the plan header, images, node selectors and affinity', () => {
    const result = ActionPlanInputSchema.safeParse({
      ...header,
      reason: 'why\ud800',
      steps: [
        { verb: 'update', target, params: { container: 'server', image: 'img\u0000' } },
        { verb: 'reschedule', target, params: { nodeSelector: { pool: 'a b' } } },
        { verb: 'reschedule', target, params: { affinity: { nodeAffinity: { x: '\u0000' } } } },
      ],
    });
    expect(issues(result).map((i) => i.path)).toEqual([
      'steps.0.params.image',
      'steps.1.params.nodeSelector.pool',
      'steps.2.params.affinity.nodeAffinity.x',
      'reason',
    ]);
  });

  it('checks a rollout spec and a policy document', () => {
    const rollout = RolloutSpecSchema.safeParse({
      target: { cluster: 'local', namespace: 'ml', name: 'inference' },
      template: { containers: [{ name: 'server', env: { A: 'x\u0000' } }], annotations: { note: '\ud800' } },
      strategy: { canary: { steps: [{ setWeight: 50 }] } },
      requestedBy: 'sre',
      reason: 'test',
    });
    expect(issues(rollout).map((i) => i.path)).toEqual([
      'template.containers.0.env.A',
      'template.annotations.note',
    ]);
    const policy = PolicyDocumentSchema.safeParse({
      id: 'quota',
      version: 1,
      description: 'max\u0000',
      rule: { type: 'quota', scope: 'workload', maxReplicas: 8 },
    });
    expect(issues(policy)).toEqual([{ path: 'description', message: NUL }]);
  });
});

describe('database error classification', () => {
  it('treats SQLSTATE class 22 (data exception) as never retryable, whatever wraps it', () => {
    const wrapped = Object.assign(new Error('Failed query'), {
      cause: Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' }),
    });
    expect(sqlStateOf(wrapped)).toBe('22P05');
    expect(isDataRejectedError(wrapped)).toBe(true);
    expect(isDataRejectedError(Object.assign(new Error('too long'), { code: '22001' }))).toBe(true);
    // A connection failure, a serialization failure: a retry may succeed.
    expect(isDataRejectedError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isDataRejectedError(Object.assign(new Error('retry'), { code: '40001' }))).toBe(false);
    expect(isDataRejectedError(new Error('plain'))).toBe(false);
  });
});
