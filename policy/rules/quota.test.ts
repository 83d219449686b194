import { describe, expect, it } from 'vitest';
import type { PolicyDocumentInput } from '../schema.ts';
import { TEAM_LABEL } from '../context.ts';
import { action, context, decide, GPU_REPLICA, policy } from '../test-support/fixtures.ts';

const quota = (rule: Record<string, unknown>) =>
  policy({ id: 'quota', rule: { type: 'quota', ...rule } as PolicyDocumentInput['rule'] });
const GiB = 2 ** 30;

describe('quota, scope workload', () => {
  const maxEight = quota({ scope: 'workload', maxReplicas: 8 });

  it('allows exactly at the limit and denies one over', () => {
    expect(decide(maxEight, action({ desiredReplicas: 8 })).result).toBe('allow');
    const d = decide(maxEight, action({ desiredReplicas: 9 }));
    expect(d.result).toBe('deny');
    expect(d.violations[0]?.message).toBe(
      'workload gpu-east/ml/Deployment/inference quota: replicas: 9 replicas exceeds the quota of 8',
    );
  });

  it('caps GPUs, CPU and memory as totals over the replicas', () => {
    const caps = quota({ scope: 'workload', maxGpus: 4, maxCpu: '32', maxMemory: '256Gi' });
    expect(decide(caps, action({ resources: GPU_REPLICA })).result).toBe('allow');
    const d = decide(caps, action({ desiredReplicas: 5, resources: GPU_REPLICA }));
    expect(d.violations[0]?.message).toBe(
      'workload gpu-east/ml/Deployment/inference quota: CPU: 5 replicas × 8 CPU = 40 CPU exceeds the quota of 32 CPU; ' +
        'memory: 5 replicas × 64 GiB = 320 GiB exceeds the quota of 256 GiB; ' +
        'nvidia.com/gpu: 5 replicas × 1 = 5 exceeds the quota of 4',
    );
  });

  it('lets a workload above its quota shrink', () => {
    expect(decide(maxEight, action({ currentReplicas: 12, desiredReplicas: 10 })).result).toBe('allow');
  });
});

describe('quota, shared scopes', () => {
  const usage = {
    namespaces: { 'gpu-east/ml': { replicas: 10, gpus: 14, cpuCores: 100, memoryBytes: 900 * GiB } },
    teams: { vision: { gpus: 30 } },
    clusters: { 'gpu-east': { gpus: 60 } },
  };
  const gpuUp = action({ resources: GPU_REPLICA }); // +2 GPUs

  it('counts usage plus the growth: exactly at the limit is allowed', () => {
    expect(decide(quota({ scope: 'namespace', maxGpus: 16 }), gpuUp, context({ usage })).result).toBe(
      'allow',
    );
  });

  it('denies one over, with in-use, requested and limit in the message', () => {
    const d = decide(quota({ scope: 'namespace', maxGpus: 15 }), gpuUp, context({ usage }));
    expect(d.result).toBe('deny');
    expect(d.violations[0]?.message).toBe(
      'namespace gpu-east/ml quota: nvidia.com/gpu: 14 in use + 2 requested = 16 exceeds the quota of 15',
    );
    expect(d.violations[0]?.details).toMatchObject({
      'gpus.used': 14,
      'gpus.requested': 2,
      'gpus.limit': 15,
    });
  });

  it('accepts CPU and memory as Kubernetes quantities, at and one over the limit', () => {
    // 100 + 2 × 8 = 116 CPU; 900 + 2 × 64 = 1028 GiB.
    const at = quota({ scope: 'namespace', maxCpu: '116', maxMemory: '1028Gi' });
    expect(decide(at, gpuUp, context({ usage })).result).toBe('allow');
    const over = quota({ scope: 'namespace', maxCpu: '115500m', maxMemory: '1Ti' });
    expect(decide(over, gpuUp, context({ usage })).violations[0]?.message).toBe(
      'namespace gpu-east/ml quota: CPU: 100 CPU in use + 16 CPU requested = 116 CPU exceeds the quota of 115.5 CPU; ' +
        'memory: 900 GiB in use + 128 GiB requested = 1028 GiB exceeds the quota of 1024 GiB',
    );
  });

  it('finds the team from context.team or the team label', () => {
    const team = quota({ scope: 'team', maxGpus: 31 });
    expect(decide(team, gpuUp, context({ usage, team: 'vision' })).result).toBe('deny');
    expect(
      decide(team, action({ ...gpuUp, workloadLabels: { [TEAM_LABEL]: 'vision' } }), context({ usage }))
        .result,
    ).toBe('deny');
    expect(
      decide(team, action({ ...gpuUp, namespaceLabels: { [TEAM_LABEL]: 'vision' } }), context({ usage }))
        .result,
    ).toBe('deny');
    expect(decide(team, gpuUp, context({ usage })).violations[0]?.message).toMatch(/team is unknown/);
  });

  it('counts cluster usage', () => {
    expect(decide(quota({ scope: 'cluster', maxGpus: 62 }), gpuUp, context({ usage })).result).toBe('allow');
    expect(decide(quota({ scope: 'cluster', maxGpus: 61 }), gpuUp, context({ usage })).result).toBe('deny');
  });

  it('lets an over-quota scope shrink without knowing usage or resources', () => {
    const down = action({ currentReplicas: 4, desiredReplicas: 2 });
    expect(decide(quota({ scope: 'namespace', maxGpus: 0, maxReplicas: 0 }), down, context()).result).toBe(
      'allow',
    );
  });

  it('ignores resource changes that do not grow the limited dimension', () => {
    // An image update: same replicas, same resources → adds nothing, usage not needed.
    const update = action({ verb: 'update', desiredReplicas: undefined });
    expect(decide(quota({ scope: 'namespace', maxGpus: 1 }), update, context()).result).toBe('allow');
  });

  it('counts a per-replica resource change', () => {
    const bigger = action({
      verb: 'update',
      desiredReplicas: undefined,
      currentResources: { ...GPU_REPLICA, gpus: 1 },
      resources: { ...GPU_REPLICA, gpus: 2 },
    }); // 2 replicas × +1 GPU
    expect(decide(quota({ scope: 'namespace', maxGpus: 16 }), bigger, context({ usage })).result).toBe(
      'allow',
    );
    expect(decide(quota({ scope: 'namespace', maxGpus: 15 }), bigger, context({ usage })).result).toBe(
      'deny',
    );
  });

  it('reports missing usage (fail closed) or skips it', () => {
    const d = decide(quota({ scope: 'namespace', maxGpus: 16 }), gpuUp, context());
    expect(d.violations[0]?.message).toBe(
      'cannot be checked: context.usage has no entry for namespace gpu-east/ml',
    );
    const partial = context({ usage: { namespaces: { 'gpu-east/ml': { replicas: 1 } } } });
    expect(decide(quota({ scope: 'namespace', maxGpus: 16 }), gpuUp, partial).violations[0]?.message).toBe(
      'cannot be checked: context.usage has no gpus for namespace gpu-east/ml',
    );
    const lenient = quota({ scope: 'namespace', maxGpus: 16, onMissingInput: 'notApplicable' });
    expect(decide(lenient, gpuUp, context()).result).toBe('allow');
  });

  it('needs the current replica count to know the growth', () => {
    const d = decide(
      quota({ scope: 'namespace', maxReplicas: 20 }),
      action({ currentReplicas: undefined }),
      context({ usage }),
    );
    expect(d.violations[0]?.message).toBe('cannot be checked: action.currentReplicas is not given');
  });
});
