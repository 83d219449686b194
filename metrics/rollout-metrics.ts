import { Counter, Histogram, type Registry } from 'prom-client';

/** Rollout metrics of a worker process, on its /metrics. */
export interface RolloutMetrics {
  /** Phase changes, by rollout kind and the phase entered. */
  phaseTransitions: Counter<'kind' | 'phase'>;
  /** Rollouts that ended, by kind and terminal phase. */
  finished: Counter<'kind' | 'phase'>;
  /** Start → end of a rollout, by kind and terminal phase. */
  duration: Histogram<'kind' | 'phase'>;
  /** Analysis runs that reached a decision, by kind of analysis and result. */
  analysisRuns: Counter<'kind' | 'phase'>;
}

/**
 * The rollout metrics of a registry, registered on first use (two workers sharing one
 * registry share the metrics).
 */
export function createRolloutMetrics(registry: Registry): RolloutMetrics {
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  return {
    phaseTransitions:
      existing<Counter<'kind' | 'phase'>>('sentinel_rollout_phase_transitions_total') ??
      new Counter({
        name: 'sentinel_rollout_phase_transitions_total',
        help: 'Rollout phase changes, by rollout kind and the phase entered',
        labelNames: ['kind', 'phase'],
        registers: [registry],
      }),
    finished:
      existing<Counter<'kind' | 'phase'>>('sentinel_rollouts_finished_total') ??
      new Counter({
        name: 'sentinel_rollouts_finished_total',
        help: 'Rollouts that reached a terminal phase, by kind and phase',
        labelNames: ['kind', 'phase'],
        registers: [registry],
      }),
    duration:
      existing<Histogram<'kind' | 'phase'>>('sentinel_rollout_duration_seconds') ??
      new Histogram({
        name: 'sentinel_rollout_duration_seconds',
        help: 'Time from a rollout start to its terminal phase',
        labelNames: ['kind', 'phase'],
        buckets: [10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600],
        registers: [registry],
      }),
    analysisRuns:
      existing<Counter<'kind' | 'phase'>>('sentinel_rollout_analysis_runs_total') ??
      new Counter({
        name: 'sentinel_rollout_analysis_runs_total',
        help: 'Rollout analysis runs that reached a decision, by analysis kind and phase',
        labelNames: ['kind', 'phase'],
        registers: [registry],
      }),
  };
}
