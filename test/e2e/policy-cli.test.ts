import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { PolicyEvaluation } from '../../api/policy-service.ts';
import { applyObject, applyWorkload, ClusterRegistry, getWorkload } from '../../k8s/index.ts';
import type { LocalStack } from '../../stack/local-stack.ts';
import { inferenceDeployment, startTestStack } from '../support/stack.ts';

// The `sentinel policy` commands as a user runs them (node bin/sentinel.mjs), against the real
// stack, with the files shipped in examples/.
const repo = join(import.meta.dirname, '..', '..');
let stack: LocalStack;
let clusters: ClusterRegistry;
let scratch: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sentinel(...args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env.SENTINEL_TOKEN;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repo, 'bin', 'sentinel.mjs'), '--api', stack.apiUrl, ...args],
      { cwd: repo, env, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const llmServing = {
  cluster: 'local',
  namespace: 'serving',
  kind: 'Deployment',
  name: 'llm-serving',
} as const;
const EXAMPLE_POLICIES = [
  'team-monthly-budget',
  'inference-cost-ceiling',
  'benchmark-burst-exception',
  'production-change-freeze',
  'ml-research-gpu-quota',
  'scale-rate-limit',
  'serving-min-available',
  'promote-only-when-healthy',
];

beforeAll(async () => {
  stack = await startTestStack();
  clusters = ClusterRegistry.fromSources(stack.clusters);
  scratch = mkdtempSync(join(tmpdir(), 'sentinel-policy-cli-'));
  await applyObject(clusters, 'local', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
  await applyWorkload(clusters, 'local', inferenceDeployment('inference', 2));
  // The example serving workload, exactly as the docs tell a user to create it.
  const manifest = readFileSync(join(repo, 'examples/workloads/llm-serving.yaml'), 'utf8');
  for (const doc of parseAllDocuments(manifest)) {
    const object = doc.toJS() as { kind: string };
    if (object.kind === 'Namespace') await applyObject(clusters, 'local', object);
    else await applyWorkload(clusters, 'local', object);
  }
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await stack?.stop();
});

describe('sentinel policy apply / list / get', () => {
  it('applies every example policy from a directory, then reports them unchanged', async () => {
    const first = await sentinel('policy', 'apply', 'examples/policies');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n')).toEqual(EXAMPLE_POLICIES.map((id) => `${id}@1  created`));

    const again = await sentinel(
      'policy',
      'apply',
      'examples/policies/sla.yaml',
      'examples/policies/quota.yaml',
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('serving-min-available@1  unchanged\nml-research-gpu-quota@1  unchanged\n');
  });

  it('stores a changed document as the next version and lists the current ones', async () => {
    const changed = join(scratch, 'rate-limit.json');
    const doc = parseAllDocuments(readFileSync(join(repo, 'examples/policies/rate-limit.yaml'), 'utf8'))[0]!;
    writeFileSync(changed, JSON.stringify({ ...(doc.toJS() as object), description: 'tightened' }));
    const update = await sentinel('policy', 'apply', changed);
    expect(update.code).toBe(0);
    expect(update.stdout).toBe('scale-rate-limit@2  updated (was @1)\n');

    const list = await sentinel('policy', 'list');
    expect(list.code).toBe(0);
    const rows = list.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+VERSION\s+MODE\s+PRIORITY\s+RULE\s+DESCRIPTION$/);
    expect(rows).toHaveLength(1 + EXAMPLE_POLICIES.length);
    expect(rows.find((r) => r.startsWith('scale-rate-limit '))).toMatch(
      /^scale-rate-limit\s+2\s+warn\s+50\s+rateLimit\s+tightened$/,
    );

    const old = await sentinel('policy', 'get', 'scale-rate-limit', '--version', '1');
    expect(old.code).toBe(0);
    expect(old.stdout).toMatch(/^# scale-rate-limit@1, stored by admin at /);
    expect(old.stdout).toContain('description: At most 6 scale actions per workload per hour.');
    const current = await sentinel('policy', 'get', 'scale-rate-limit', '-o', 'json');
    expect(JSON.parse(current.stdout)).toMatchObject({ version: 2, document: { description: 'tightened' } });
  });

  it('refuses a malformed file, naming the field, reason and line, and stores nothing from it', async () => {
    const bad = join(scratch, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'id: fine-policy',
        'version: 1',
        'rule: { type: quota, scope: workload, maxReplicas: 4 }',
        '---',
        'id: broken-policy',
        'version: 1',
        'rule:',
        '  type: quota',
        '  scope: workload',
        '  maxReplicas: lots',
        '',
      ].join('\n'),
    );
    const run = await sentinel('policy', 'apply', bad);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`error: ${bad}: invalid policy document`);
    expect(run.stderr).toContain('rule.maxReplicas: expected number, received string (line 10, document 2)');
    expect(run.stderr).toContain('(SENTINEL_ERR_POLICY_INVALID)');
    const get = await sentinel('policy', 'get', 'fine-policy');
    expect(get.code).toBe(1);
    expect(get.stderr).toContain('(SENTINEL_ERR_NOT_FOUND)');
  });
});

describe('sentinel policy test', () => {
  it('denies halving the serving workload with every violation, exit code 2, and changes nothing', async () => {
    const before = await getWorkload(clusters, llmServing);
    const run = await sentinel('policy', 'test', 'examples/plans/scale-llm-serving-down.yaml');
    expect(run.code).toBe(2);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^plan scale-llm-serving-to-2: deny {2}\(8 policies in force, evaluated at .+\)$/,
    );
    expect(lines[1]).toBe('step 0 scale local/serving/Deployment/llm-serving  replicas 4 -> 2: deny');
    expect(lines).toContain(
      '  deny   serving-min-available@1 (sla, enforce): scale to 2 replicas leaves 2 available after the change, below the minimum of 3 (75% of 4)',
    );
    expect(
      lines.some((l) =>
        l.startsWith('  deny   promote-only-when-healthy@1 (slo, enforce): cannot be checked'),
      ),
    ).toBe(true);
    // The rate limit is judged on the audit's recent actions, which hold no scale of this workload.
    expect(lines.some((l) => l.startsWith('  warn   scale-rate-limit@2'))).toBe(false);
    expect(run.stdout).toMatch(/matched: .*scale-rate-limit@2/);

    const after = await getWorkload(clusters, llmServing);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const plans = await sentinel('plan', 'list');
    expect(plans.stdout).toBe('');
  });

  it('allows an image update of the serving workload (exit code 0)', async () => {
    const run = await sentinel('policy', 'test', 'examples/plans/update-llm-serving-image.yaml');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^plan update-llm-serving-v2: allow /);
    expect(run.stdout).toContain('step 0 update local/serving/Deployment/llm-serving: allow\n');
  });

  it('denies growing the serving workload because the team quota cannot be checked (fail closed)', async () => {
    const run = await sentinel('policy', 'test', 'examples/plans/scale-llm-serving-up.yaml');
    expect(run.code).toBe(2);
    expect(run.stdout).toContain(
      '  deny   ml-research-gpu-quota@1 (quota, enforce): cannot be checked: context.usage has no entry for team ml-research',
    );
    expect(run.stdout).toContain('  skip   promote-only-when-healthy@1: ');
  });

  it('allows a plain scale and denies the over-quota example once the demo quota is applied', async () => {
    const allow = await sentinel('policy', 'test', 'examples/plans/scale-inference.yaml');
    expect(allow.code).toBe(0);
    expect(allow.stdout).toMatch(/^plan scale-inference-to-4: allow /);
    expect(allow.stdout).toMatch(/matched: .*scale-rate-limit@2/);

    const apply = await sentinel('policy', 'apply', 'examples/policies/demo');
    expect(apply.stdout).toBe('ml-max-replicas@1  created\n');
    const deny = await sentinel('policy', 'test', 'examples/plans/scale-over-quota.yaml');
    expect(deny.code).toBe(2);
    expect(deny.stdout).toContain('replicas 2 -> 12: deny');
    expect(deny.stdout).toMatch(/ {2}deny {3}ml-max-replicas@1 \(quota, enforce\): .*12/);
    const json = await sentinel('policy', 'test', 'examples/plans/scale-over-quota.yaml', '-o', 'json');
    expect(json.code).toBe(2);
    const evaluation = JSON.parse(json.stdout) as PolicyEvaluation;
    expect(evaluation.result).toBe('deny');
    expect(evaluation.steps[0]!.violations.map((v) => v.policyId)).toContain('ml-max-replicas');
  });

  it('names the step of a plan whose workload does not exist (exit code 1)', async () => {
    const plan = join(scratch, 'missing.yaml');
    writeFileSync(
      plan,
      'verb: scale\ntarget: { cluster: local, namespace: ml, kind: Deployment, name: ghost }\nparams: { replicas: 1 }\nrequestedBy: e2e\nreason: test\n',
    );
    const run = await sentinel('policy', 'test', plan);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('steps.0.target: ');
    expect(run.stderr).toContain('(SENTINEL_ERR_NOT_FOUND)');
  });
});

describe('sentinel policy delete', () => {
  it('deletes a policy, which then no longer decides, while its versions stay readable', async () => {
    const run = await sentinel('policy', 'delete', 'ml-max-replicas');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ml-max-replicas@1 {2}deleted/);
    const get = await sentinel('policy', 'get', 'ml-max-replicas');
    expect(get.code).toBe(1);
    expect(get.stderr).toContain('was deleted');
    const old = await sentinel('policy', 'get', 'ml-max-replicas', '--version', '1');
    expect(old.code).toBe(0);
    expect(old.stdout).toContain('maxReplicas: 8');
    const versions = await sentinel('policy', 'versions', 'ml-max-replicas');
    expect(versions.stdout).toMatch(/^ml-max-replicas@1 {2}\S+ {2}admin {2}deleted \S+\n$/);
    const test = await sentinel('policy', 'test', 'examples/plans/scale-over-quota.yaml');
    expect(test.code).toBe(0);
    expect(test.stdout).not.toContain('ml-max-replicas');
    expect((await sentinel('policy', 'delete', 'ml-max-replicas')).code).toBe(1);
  });
});
