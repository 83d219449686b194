import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, applyWorkload, ClusterRegistry, getWorkload } from '../../k8s/index.ts';
import type { LocalStack } from '../../stack/local-stack.ts';
import { inferenceDeployment } from '../../testbed/workloads.ts';
import { runCli } from '../support/cli.ts';
import { startTestStack } from '../support/stack.ts';

describe('sentinel dev --demo', () => {
  it('brings the whole stack up, runs the demo, and stops everything', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-dev-e2e-'));
    try {
      const result = await runCli(
        ['dev', '--demo', '--exit-after-demo', '--temporal-port', '0', '--ui-port', '0'],
        {
          env: { SENTINEL_DATA_DIR: dataDir, SENTINEL_API_PORT: '0' },
          timeoutMs: 240_000,
        },
      );
      expect(result.stderr).not.toMatch(/^error:/m);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Temporal Web UI\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(result.stdout).toMatch(/kubeconfig: .*kubeconfig/);
      expect(result.stdout).toMatch(/scale-to-4\s+phase=Succeeded/);
      expect(result.stdout).toMatch(/spec\.replicas=4 readyReplicas=4/);
      expect(result.stdout).toMatch(/scale-to-12\s+phase=Denied/);
      expect(result.stdout).toMatch(/spec\.replicas=4 \(unchanged\)/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('sentinel plan', () => {
  let stack: LocalStack;
  let workDir: string;
  const target = { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'cli-app' } as const;

  beforeAll(async () => {
    stack = await startTestStack();
    workDir = mkdtempSync(join(tmpdir(), 'sentinel-cli-'));
    const clusters = ClusterRegistry.fromSources(stack.clusters);
    await applyObject(clusters, 'local', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
    await applyWorkload(clusters, 'local', inferenceDeployment('cli-app', 1));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  const planFile = (name: string, body: string) => {
    const path = join(workDir, name);
    writeFileSync(path, body);
    return path;
  };

  it('submits a YAML plan, waits for it and shows it', async () => {
    const file = planFile(
      'scale.yaml',
      `id: cli-scale\nverb: scale\ntarget: { cluster: local, namespace: ml, kind: Deployment, name: cli-app }\nparams: { replicas: 3 }\nrequestedBy: e2e\nreason: cli test\n`,
    );
    const submitted = await runCli(['--api', stack.apiUrl, 'plan', 'submit', file, '--wait']);
    expect(submitted.code).toBe(0);
    expect(submitted.stderr).toContain('submitted plan cli-scale');
    expect(submitted.stdout).toMatch(/plan cli-scale\s+phase=Succeeded/);
    expect(submitted.stdout).toMatch(
      /step 0 scale\s+local\/ml\/Deployment\/cli-app\s+Applied\s+replicas 1 → 3/,
    );

    const again = await runCli(['--api', stack.apiUrl, 'plan', 'submit', file]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already submitted; not started again');

    const shown = await runCli(['--api', stack.apiUrl, 'plan', 'get', 'cli-scale', '-o', 'json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ planId: 'cli-scale', phase: 'Succeeded' });
    expect((await getWorkload(ClusterRegistry.fromSources(stack.clusters), target)).spec.replicas).toBe(3);
  });

  it('reports every invalid field of a plan file and exits 1', async () => {
    const file = planFile(
      'bad.yaml',
      `id: cli-bad\nverb: scale\ntarget: { cluster: local, namespace: ml, kind: Deployment, name: cli-app }\nparams: { replicas: many }\nrequestedBy: e2e\n`,
    );
    const result = await runCli(['--api', stack.apiUrl, 'plan', 'submit', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('steps.0.params.replicas');
    expect(result.stderr).toContain('reason');
    expect(result.stderr).toContain('SENTINEL_ERR_VALIDATION');
  });

  it('names the file when it is not YAML, and the API when it is unreachable', async () => {
    const notYaml = await runCli([
      '--api',
      stack.apiUrl,
      'plan',
      'submit',
      planFile('broken.yaml', 'id: [unclosed\n'),
    ]);
    expect(notYaml.code).toBe(1);
    expect(notYaml.stderr).toMatch(/broken\.yaml is neither YAML nor JSON/);
    const unreachable = await runCli(['--api', 'http://127.0.0.1:9', 'plan', 'get', 'x']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the Sentinel API at http:\/\/127\.0\.0\.1:9/);
  });

  it('answers 404 for an unknown plan', async () => {
    const result = await runCli(['--api', stack.apiUrl, 'plan', 'get', 'no-such-plan']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/plan no-such-plan not found/);
  });
});
