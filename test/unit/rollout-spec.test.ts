import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  replicaSplit,
  resolveAnalysis,
  RolloutSpecSchema,
  rolloutKindOf,
  type RolloutSpecInput,
} from '../../domain/rollout.ts';
import { rolloutWorkflowId } from '../../domain/rollout-messages.ts';

const examples = join(import.meta.dirname, '..', '..', 'examples', 'rollouts');

const base = (strategy: unknown, extra: Record<string, unknown> = {}): RolloutSpecInput =>
  ({
    target: { cluster: 'local', namespace: 'ml', name: 'inference' },
    template: { containers: [{ name: 'server', image: 'registry.local/inference:v2' }] },
    strategy,
    requestedBy: 'sre',
    reason: 'test',
    ...extra,
  }) as RolloutSpecInput;

const issues = (input: unknown) => {
  const result = RolloutSpecSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('rollout spec', () => {
  it('accepts every example in examples/rollouts', () => {
    const files = readdirSync(examples).filter(
      (f) => /-llm-serving\.yaml$/.test(f) && !f.includes('services'),
    );
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const spec = RolloutSpecSchema.parse(parse(readFileSync(join(examples, file), 'utf8')));
      expect(rolloutWorkflowId(spec.target)).toBe('rollout/local/serving/llm-serving');
      expect(rolloutKindOf(spec)).toBe(file.startsWith('canary') ? 'canary' : 'bluegreen');
    }
  });

  it('fills defaults', () => {
    const spec = RolloutSpecSchema.parse(base({ canary: { steps: [{ setWeight: 20 }, { pause: {} }] } }));
    expect(spec).toMatchObject({
      progressDeadlineSeconds: 600,
      capacityCheckInterval: '10s',
      priority: 100,
      analysisTemplates: [],
      strategy: { canary: { dynamicStableScale: false, trafficRouter: 'replicaRatio' } },
    });
    const bg = RolloutSpecSchema.parse(base({ blueGreen: { activeService: 'inference' } }));
    expect(bg.strategy).toEqual({
      blueGreen: { activeService: 'inference', autoPromotionEnabled: true, scaleDownDelaySeconds: 30 },
    });
  });

  it('names every problem by its path', () => {
    expect(
      issues(base({ canary: { steps: [{ setWeight: 120 }, { pause: { duration: 'soon' } }] } })),
    ).toEqual([
      'strategy.canary.steps.0.setWeight: Too big: expected number to be <=100',
      'strategy.canary.steps.1.pause.duration: expected a positive duration such as "30s", "5m" or "1h30m"',
    ]);
    const rate = {
      name: 'rate',
      args: [{ name: 'version' }],
      metrics: [{ name: 'm', provider: { prometheus: { query: 'x{v="{{args.version}}"}' } } }],
    };
    expect(
      issues(
        base(
          {
            canary: {
              steps: [{ setWeight: 20 }, { analysis: { templates: [{ templateName: 'nope' }] } }],
              analysis: { templates: [{ templateName: 'rate' }], startingStep: 3 },
            },
          },
          { analysisTemplates: [rate] },
        ),
      ),
    ).toEqual([
      'strategy.canary.steps.1.analysis.templates.0.templateName: no analysis template named "nope" in analysisTemplates',
      'strategy.canary.analysis.args: template rate needs a value for argument version',
      'strategy.canary.analysis.startingStep: must name a step (0-1)',
    ]);
    expect(issues(base({ blueGreen: { activeService: 'a', previewService: 'a' } }))).toEqual([
      'strategy.blueGreen.previewService: must differ from activeService',
    ]);
    expect(
      issues(base({ canary: { steps: [{ setWeight: 1 }] }, blueGreen: { activeService: 'a' } })),
    ).toEqual(['strategy: needs exactly one of canary or blueGreen']);
    expect(issues({ ...base({ canary: { steps: [{ setWeight: 1 }] } }), template: {} })).toEqual([
      'template: the template must change at least one container, label or annotation',
    ]);
  });

  it('splits replicas by weight, rounding the canary up', () => {
    expect(replicaSplit(4, 25, false)).toEqual({ canary: 1, stable: 4 });
    expect(replicaSplit(4, 25, true)).toEqual({ canary: 1, stable: 3 });
    expect(replicaSplit(3, 10, true)).toEqual({ canary: 1, stable: 2 });
    expect(replicaSplit(3, 0, true)).toEqual({ canary: 0, stable: 3 });
    expect(replicaSplit(3, 100, true)).toEqual({ canary: 3, stable: 0 });
    expect(replicaSplit(10, 55, false)).toEqual({ canary: 6, stable: 10 });
  });

  it('fills built-in analysis arguments the template declares', () => {
    const template = {
      name: 't',
      args: [{ name: 'namespace' }, { name: 'workload' }, { name: 'version' }],
      metrics: [
        {
          name: 'm',
          provider: {
            prometheus: {
              query: 'up{namespace="{{args.namespace}}",app="{{args.workload}}",v="{{args.version}}"}',
            },
          },
          failureLimit: 0,
          inconclusiveLimit: 0,
          consecutiveErrorLimit: 4,
        },
      ],
    };
    const [metric] = resolveAnalysis(
      template,
      { templates: [{ templateName: 't' }], args: [{ name: 'version', value: 'canary' }], judges: [] },
      { cluster: 'local', namespace: 'ml', name: 'inference' },
    );
    expect(metric!.provider.prometheus.query).toBe('up{namespace="ml",app="inference",v="canary"}');
  });
});
