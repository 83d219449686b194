import { describe, expect, it } from 'vitest';
import { ActionPlanInputSchema } from '../../domain/plan.ts';
import { ValidationError } from '../../domain/errors.ts';
import { parseOrThrow } from '../../domain/validate.ts';

const target = { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'inference' };
const header = { id: 'p-1', requestedBy: 'alice', reason: 'load forecast' };

describe('ActionPlan schema', () => {
  it('normalises a single-step plan into steps with defaults', () => {
    const plan = ActionPlanInputSchema.parse({ ...header, verb: 'scale', target, params: { replicas: 4 } });
    expect(plan.steps).toEqual([{ verb: 'scale', target, params: { replicas: 4 } }]);
    expect(plan).toMatchObject({ priority: 100, mode: 'execute', emergency: false });
  });

  it('accepts every verb with its own params', () => {
    const plan = ActionPlanInputSchema.parse({
      ...header,
      steps: [
        { verb: 'scale', target, params: { replicas: 0 } },
        { verb: 'update', target, params: { container: 'server', image: 'registry/app:v2' } },
        { verb: 'rollback', target, params: {} },
        { verb: 'reschedule', target, params: { nodeSelector: { 'sentinel.dev/gpu-pool': 'pool-b' } } },
      ],
    });
    expect(plan.steps.map((s) => s.verb)).toEqual(['scale', 'update', 'rollback', 'reschedule']);
  });

  it('names the exact field of every problem', () => {
    const bad = {
      ...header,
      id: '-bad',
      verb: 'scale',
      target: { ...target, namespace: 'ML' },
      params: { replicas: -1 },
    };
    let error: unknown;
    try {
      parseOrThrow(ActionPlanInputSchema, bad, 'invalid ActionPlan');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const paths = (error as ValidationError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['id', 'steps.0.params.replicas', 'steps.0.target.namespace']);
  });

  it('rejects unknown verbs, unknown fields and empty updates', () => {
    expect(ActionPlanInputSchema.safeParse({ ...header, verb: 'delete', target, params: {} }).success).toBe(
      false,
    );
    expect(
      ActionPlanInputSchema.safeParse({ ...header, verb: 'scale', target, params: { replicas: 1, extra: 1 } })
        .success,
    ).toBe(false);
    const emptyUpdate = ActionPlanInputSchema.safeParse({
      ...header,
      verb: 'update',
      target,
      params: { container: 'c' },
    });
    expect(emptyUpdate.success).toBe(false);
    expect(emptyUpdate.error?.issues[0]?.message).toMatch(/at least one of image, env or resources/);
  });

  it('requires notAfter to carry a time zone offset', () => {
    const base = { ...header, verb: 'scale', target, params: { replicas: 1 } };
    expect(ActionPlanInputSchema.safeParse({ ...base, notAfter: '2026-01-01T00:00:00' }).success).toBe(false);
    expect(ActionPlanInputSchema.safeParse({ ...base, notAfter: '2026-01-01T00:00:00Z' }).success).toBe(true);
  });
});

// A QA pass after the boundary-string fixes: quantities the apiserver refuses (`lots`) or
// writes as nonsense (`1e308` → `100e306`) reached the cluster; they are refused here.
describe('resource quantities', () => {
  const update = (cpu: unknown) => ({
    id: 'q',
    verb: 'update',
    target: { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'inference' },
    params: { container: 'server', resources: { limits: { cpu } } },
    requestedBy: 'sre',
    reason: 'test',
  });
  it.each(['lots', 1e308, '1e308', -1, '10Zi'])('refuses cpu %s, naming the field', (cpu) => {
    const result = ActionPlanInputSchema.safeParse(update(cpu));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe('steps.0.params.resources.limits.cpu');
  });
  it.each(['500m', '2', 4, '1.5', '16Gi', '1e3'])('accepts cpu %s', (cpu) => {
    expect(ActionPlanInputSchema.safeParse(update(cpu)).success).toBe(true);
  });
});
