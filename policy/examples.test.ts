// Every example in examples/policies must parse, and together they must show each rule type.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.ts';
import { parsePolicyDocument } from './parse.ts';
import { compilePolicies } from './policy-set.ts';
import { RuleType } from './schema.ts';

const dir = join(import.meta.dirname, '..', 'examples', 'policies');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const parsed = files.map((f) => ({ file: f, doc: parsePolicyDocument(readFileSync(join(dir, f), 'utf8')) }));

describe('examples/policies', () => {
  it.each(parsed)('$file parses, and its name matches its rule type', ({ file, doc }) => {
    const kebab = doc.rule.type.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    expect(file).toBe(`${kebab}.yaml`);
  });

  it('cover every rule type, one file each', () => {
    expect(parsed.map((p) => p.doc.rule.type).sort()).toEqual(Object.values(RuleType).sort());
  });

  it('compile together and exempt the benchmark team as documented', () => {
    const set = compilePolicies(parsed.map((p) => p.doc));
    const decision = evaluate(
      {
        verb: 'scale',
        target: { cluster: 'gpu-bench', namespace: 'mlperf', kind: 'Deployment', name: 'resnet' },
        workloadLabels: { 'sentinel.io/team': 'ml-research', purpose: 'benchmark' },
        currentReplicas: 8,
        desiredReplicas: 16,
        resources: { cpuCores: 8, memoryBytes: 64 * 2 ** 30, gpus: 1, gpuModel: 'H100' },
      },
      {
        now: '2025-06-11T15:00:00Z',
        usage: { teams: { 'ml-research': { gpus: 60, cpuCores: 400, memoryBytes: 2 * 2 ** 40 } } },
        history: [],
        prices: { cpuCoreHour: 0.05, memoryGiBHour: 0.005, gpuHour: { H100: 3 } },
        spendMonthToDate: { 'ml-research': 49_000 },
      },
      set,
    );
    expect(decision.exemptions.filter((e) => e.applied).map((e) => e.policyId)).toEqual([
      'ml-research-gpu-quota',
      'scale-rate-limit',
    ]);
    expect(decision.exemptions[0]?.waivedViolation).toMatch(
      /60 in use \+ 8 requested = 68 exceeds the quota of 64/,
    );
    // The budget policy is in dryrun: recorded, not enforced.
    expect(decision.violations.map((v) => [v.policyId, v.enforced])).toEqual([
      ['team-monthly-budget', false],
    ]);
    expect(decision.result).toBe('allow');
  });
});
