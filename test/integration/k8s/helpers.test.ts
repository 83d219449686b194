// The driver's pure helpers (no cluster needed), kept with the rest of the driver's suite.
import { describe, expect, it } from 'vitest';
import {
  KubeConflictError,
  KubeForbiddenError,
  KubeInternalError,
  KubeInvalidError,
  KubeNotFoundError,
  KubeQuotaExceededError,
  KubeRolloutFailedError,
  KubeTimeoutError,
  KubeUnavailableError,
  backoffDelay,
  describeChange,
  parseQuantity,
  rolloutStatus,
  sameQuantity,
  selectorString,
  withRetry,
  type WorkloadObject,
  type WorkloadTarget,
} from '../../../k8s/index.ts';
import { kubeErrorFromResponse, toKubeError } from '../../../k8s/errors.ts';

const ctx = { cluster: 'c1', namespace: 'ns', kind: 'Deployment', name: 'web' };

describe('quantities', () => {
  it('parses and compares Kubernetes quantities', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('2Gi')).toBe(2 * 2 ** 30);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity(4)).toBe(4);
    expect(Number.isNaN(parseQuantity('lots'))).toBe(true);
    expect(sameQuantity('1000m', '1')).toBe(true);
    expect(sameQuantity('1Gi', '1G')).toBe(false);
    expect(sameQuantity(null, undefined)).toBe(true);
    expect(sameQuantity('1', null)).toBe(false);
  });
});

describe('diff', () => {
  it('addresses named list items by name and leaves out bookkeeping', () => {
    const before = {
      metadata: { resourceVersion: '1', labels: { a: '1' } },
      spec: {
        replicas: 2,
        template: {
          spec: { containers: [{ name: 'main', image: 'x:1', env: [{ name: 'A', value: '1' }] }] },
        },
      },
      status: { replicas: 2 },
    };
    const after = {
      metadata: { resourceVersion: '2', labels: { a: '1', 'sentinel.dev/x': 'y' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'main', image: 'x:2', env: [] }] } } },
      status: { replicas: 3 },
    };
    expect(describeChange(before, after).split('\n')).toEqual([
      '+ metadata.labels."sentinel.dev/x": "y"',
      '~ spec.replicas: 2 → 3',
      '- spec.template.spec.containers[main].env[A]: {"name":"A","value":"1"}',
      '~ spec.template.spec.containers[main].image: "x:1" → "x:2"',
    ]);
    expect(describeChange(before, before)).toBe('');
  });
});

describe('label selectors', () => {
  it('renders matchLabels and matchExpressions the way the API takes them', () => {
    expect(
      selectorString({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'gpu', operator: 'Exists' },
          { key: 'spot', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,tier in (a,b),gpu,!spot');
  });
});

describe('errors', () => {
  it('maps apiserver answers to typed errors with stable codes and retryability', () => {
    const cases = [
      [404, { reason: 'NotFound' }, KubeNotFoundError, false],
      [409, { reason: 'Conflict' }, KubeConflictError, true],
      [409, { reason: 'AlreadyExists' }, KubeConflictError, false],
      [403, { message: 'forbidden: User "x" cannot patch' }, KubeForbiddenError, false],
      [
        403,
        { message: 'exceeded quota: gpus, requested: requests.nvidia.com/gpu=2' },
        KubeQuotaExceededError,
        false,
      ],
      [422, { reason: 'Invalid' }, KubeInvalidError, false],
      [429, { reason: 'TooManyRequests' }, KubeUnavailableError, true],
      [500, { reason: 'InternalError' }, KubeUnavailableError, true],
      [503, {}, KubeUnavailableError, true],
      [504, { reason: 'Timeout' }, KubeTimeoutError, true],
    ] as const;
    for (const [status, body, type, retryable] of cases) {
      const err = kubeErrorFromResponse(status, body, ctx);
      expect(err).toBeInstanceOf(type);
      expect(err.retryable).toBe(retryable);
      expect(err.details).toMatchObject({ cluster: 'c1', namespace: 'ns', name: 'web', httpStatus: status });
    }
    const invalid = kubeErrorFromResponse(
      422,
      { message: 'bad', details: { causes: [{ field: 'spec.replicas', message: 'must be >= 0' }] } },
      ctx,
    ) as KubeInvalidError;
    expect(invalid.causes).toEqual(['spec.replicas: must be >= 0']);
    expect(kubeErrorFromResponse(429, {}, ctx, '3').retryAfterMs).toBe(3000);
  });

  it('normalises socket failures to retryable UNAVAILABLE and anything else to INTERNAL', () => {
    const reset = toKubeError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), ctx);
    expect(reset).toBeInstanceOf(KubeUnavailableError);
    expect(reset.retryable).toBe(true);
    expect(reset.message).toBe(
      'cluster c1 Deployment ns/web: apiserver unreachable (ECONNRESET): read ECONNRESET',
    );
    const untrusted = toKubeError(new Error('self-signed certificate in certificate chain'), ctx);
    expect(untrusted.retryable).toBe(false);
    expect(toKubeError(new TypeError('boom'), ctx)).toBeInstanceOf(KubeInternalError);
  });
});

describe('retry', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(backoffDelay(1, 200, 5_000, () => 0)).toBe(100);
    expect(backoffDelay(1, 200, 5_000, () => 1)).toBe(200);
    expect(backoffDelay(4, 200, 5_000, () => 1)).toBe(1_600);
    expect(backoffDelay(20, 200, 5_000, () => 1)).toBe(5_000);
  });

  it('retries retryable errors only', async () => {
    let calls = 0;
    const value = await withRetry(
      () => {
        calls++;
        if (calls < 3) throw new KubeUnavailableError('down', ctx);
        return Promise.resolve('ok');
      },
      { initialDelayMs: 1 },
    );
    expect([value, calls]).toEqual(['ok', 3]);
    calls = 0;
    const err = await withRetry(
      () => {
        calls++;
        throw new KubeInvalidError('bad', ctx);
      },
      { initialDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeInvalidError);
    expect(calls).toBe(1);
  });
});

describe('rollout status', () => {
  const target: WorkloadTarget = { cluster: 'c1', namespace: 'ns', kind: 'Deployment', name: 'web' };
  const deployment = (status: Record<string, unknown>, generation = 2): WorkloadObject => ({
    metadata: { name: 'web', namespace: 'ns', generation, resourceVersion: '9' },
    spec: { replicas: 3, template: { spec: { containers: [] } } },
    status,
  });

  it('reads a Deployment the way kubectl rollout status does', () => {
    expect(rolloutStatus(target, deployment({ observedGeneration: 1 })).message).toMatch(
      /not.*observed|to be observed/,
    );
    expect(
      rolloutStatus(target, deployment({ observedGeneration: 2, updatedReplicas: 1, replicas: 3 })).message,
    ).toBe('1 of 3 new replicas have been updated');
    expect(
      rolloutStatus(
        target,
        deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 }),
      ).message,
    ).toBe('1 old replicas are pending termination');
    expect(
      rolloutStatus(
        target,
        deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
      ).done,
    ).toBe(true);
    expect(() =>
      rolloutStatus(
        target,
        deployment({
          observedGeneration: 2,
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
        }),
      ),
    ).toThrow(KubeRolloutFailedError);
  });
});
