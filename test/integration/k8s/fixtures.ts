import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../../k8s/index.ts';
import type { KubeClusterOptions } from '../../../testbed/kube.ts';

/**
 * Options for a test cluster in a fresh temporary folder, removed when the cluster stops
 * unless `SENTINEL_KEEP_TEST_DATA` is set (then the logs stay for a post-mortem).
 */
export function testCluster(name: string, options: Partial<KubeClusterOptions> = {}): KubeClusterOptions {
  return {
    name,
    dataDir: mkdtempSync(join(tmpdir(), 'sentinel-kube-')),
    removeDataDirOnStop: process.env.SENTINEL_KEEP_TEST_DATA === undefined,
    ...options,
  };
}

interface WorkloadFixture {
  namespace: string;
  name: string;
  replicas?: number;
  image?: string;
  gpus?: number;
  pool?: string;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
}

function podTemplate(f: WorkloadFixture): Record<string, unknown> {
  return {
    metadata: { labels: { app: f.name } },
    spec: {
      ...(f.pool !== undefined && { nodeSelector: { 'sentinel.dev/gpu-pool': f.pool } }),
      containers: [
        {
          name: 'main',
          image: f.image ?? 'registry.example/trainer:1.0',
          env: [{ name: 'MODEL', value: 'llama' }],
          resources: {
            requests: { cpu: '1', memory: '1Gi' },
            limits: { 'nvidia.com/gpu': String(f.gpus ?? 1) },
          },
        },
        { name: 'sidecar', image: 'registry.example/metrics:1.0', resources: { requests: { cpu: '100m' } } },
      ],
    },
  };
}

/** A Deployment whose pods each ask for `gpus` nvidia.com/gpu. */
export function gpuDeployment(f: WorkloadFixture): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: f.name, namespace: f.namespace },
    spec: {
      replicas: f.replicas ?? 2,
      revisionHistoryLimit: 10,
      ...(f.minReadySeconds !== undefined && { minReadySeconds: f.minReadySeconds }),
      ...(f.progressDeadlineSeconds !== undefined && { progressDeadlineSeconds: f.progressDeadlineSeconds }),
      selector: { matchLabels: { app: f.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: podTemplate(f),
    },
  };
}

/** A StatefulSet with parallel pod management, so scaling does not wait pod by pod. */
export function gpuStatefulSet(f: WorkloadFixture): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: f.name, namespace: f.namespace },
    spec: {
      replicas: f.replicas ?? 2,
      serviceName: f.name,
      podManagementPolicy: 'Parallel',
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: f.name } },
      template: podTemplate(f),
    },
  };
}

/** A Job whose pods run until deleted (the testbed has no completion stage). */
export function gpuJob(f: WorkloadFixture): KubeObject {
  const template = podTemplate(f);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: f.name, namespace: f.namespace },
    spec: {
      parallelism: f.replicas ?? 2,
      completions: 20,
      backoffLimit: 0,
      template: {
        ...template,
        spec: { ...(template.spec as Record<string, unknown>), restartPolicy: 'Never' },
      },
    },
  };
}
