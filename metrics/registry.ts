import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Sentinel's Prometheus metrics for one process; each process exposes them on /metrics. */
export interface SentinelMetrics {
  registry: Registry;
  /** Submit → terminal phase, labelled by verb and outcome: the source of the "99% < 30 s" figure. */
  planApplySeconds: Histogram<'verb' | 'outcome'>;
  plansFinished: Counter<'phase'>;
  policyDecisions: Counter<'result'>;
  compensations: Counter<'outcome'>;
  httpRequests: Counter<'method' | 'route' | 'status'>;
}

export function createMetrics(process: 'api' | 'worker'): SentinelMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process });
  collectDefaultMetrics({ register: registry, prefix: 'sentinel_' });
  return {
    registry,
    planApplySeconds: new Histogram({
      name: 'sentinel_plan_apply_seconds',
      help: 'Time from plan submission to its terminal phase',
      labelNames: ['verb', 'outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers: [registry],
    }),
    plansFinished: new Counter({
      name: 'sentinel_plans_finished_total',
      help: 'Plans that reached a terminal phase, by phase',
      labelNames: ['phase'],
      registers: [registry],
    }),
    policyDecisions: new Counter({
      name: 'sentinel_policy_decisions_total',
      help: 'Policy decisions made for plan steps, by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    compensations: new Counter({
      name: 'sentinel_compensations_total',
      help: 'Inverse steps run to roll back plans, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'sentinel_http_requests_total',
      help: 'HTTP requests served by the API',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
  };
}

/**
 * `sentinel_plans{phase}`: how many plans are in each phase now, read from the store at
 * scrape time (so every API replica reports the same, true numbers).
 */
export function registerPlanPhaseGauge(
  registry: Registry,
  countByPhase: () => Promise<Record<string, number>>,
): void {
  new Gauge({
    name: 'sentinel_plans',
    help: 'Plans by current phase',
    labelNames: ['phase'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [phase, count] of Object.entries(await countByPhase())) this.set({ phase }, count);
    },
  });
}
