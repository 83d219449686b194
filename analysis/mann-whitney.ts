import { AnalysisInputError } from './errors.ts';
import { normalSurvival } from './normal.ts';

/** Which way a metric gets better: latency and error rate are lower-is-better, throughput higher. */
export const JudgeDirection = {
  lowerIsBetter: 'lower-is-better',
  higherIsBetter: 'higher-is-better',
} as const;
export type JudgeDirection = (typeof JudgeDirection)[keyof typeof JudgeDirection];

/** The judge's verdict on a canary. */
export const JudgeVerdict = {
  /** The canary's median is within tolerance of the stable one. */
  pass: 'pass',
  /** The canary looks worse than tolerated, but the samples do not show it with the required confidence. */
  marginal: 'marginal',
  /** The canary is worse than tolerated, with the required confidence. */
  fail: 'fail',
} as const;
export type JudgeVerdict = (typeof JudgeVerdict)[keyof typeof JudgeVerdict];

/** Options of {@link mannWhitneyJudge}. */
export interface MannWhitneyOptions {
  /** Confidence required to call the canary worse, in [0.5, 1); the test's α is 1 − confidence. @default 0.95 */
  confidence?: number;
  /**
   * How much worse the canary's median may be, relative: 0.1 lets a lower-is-better canary's
   * median be up to 1.1 × the stable one. @default 0.1
   */
  tolerance?: number;
  /** @default 'lower-is-better' */
  direction?: JudgeDirection;
}

/** {@link MannWhitneyOptions} with every default filled. */
export type MannWhitneyOptionsWithDefaults = Required<MannWhitneyOptions>;

/** What the judge found; plain JSON (every number finite, or null where stated). */
export interface MannWhitneyResult {
  verdict: JudgeVerdict;
  /** The canary's U statistic: pairs (canary, stable) where the canary value is larger, ties counting ½. */
  u: number;
  /**
   * Standardised statistic for "the canary is worse" (positive: evidence that it is), with
   * the normal approximation's tie and continuity corrections; 0 when every value is equal.
   */
  z: number;
  /** One-sided p-value of "the canary is worse in `direction`"; 1 when every value is equal. */
  pValue: number;
  /**
   * How much worse the canary's median is, relative: worse median ÷ better median − 1 in the
   * judged direction (negative: the canary is better). `null` when the better median is 0 and
   * the worse one is not, where the ratio is unbounded.
   */
  effect: number | null;
  medians: { canary: number; stable: number };
  sizes: { canary: number; stable: number };
  options: MannWhitneyOptionsWithDefaults;
  /** The verdict in words, for logs and the audit. */
  reason: string;
}

/** Fills the judge's defaults. */
export function mannWhitneyOptionsWithDefaults(
  options: MannWhitneyOptions = {},
): MannWhitneyOptionsWithDefaults {
  const filled = {
    confidence: options.confidence ?? 0.95,
    tolerance: options.tolerance ?? 0.1,
    direction: options.direction ?? JudgeDirection.lowerIsBetter,
  };
  if (!(filled.confidence >= 0.5 && filled.confidence < 1))
    throw new AnalysisInputError(`confidence must be in [0.5, 1), got ${filled.confidence}`);
  if (!(filled.tolerance >= 0 && Number.isFinite(filled.tolerance)))
    throw new AnalysisInputError(`tolerance must be a finite number ≥ 0, got ${filled.tolerance}`);
  if (filled.direction !== JudgeDirection.lowerIsBetter && filled.direction !== JudgeDirection.higherIsBetter)
    throw new AnalysisInputError(
      `direction must be lower-is-better or higher-is-better, got ${String(filled.direction)}`,
    );
  return filled;
}

function checkSample(name: string, sample: readonly number[]): void {
  if (sample.length === 0) throw new AnalysisInputError(`the ${name} sample is empty`);
  const bad = sample.findIndex((v) => !(Number.isFinite(v) && v >= 0));
  if (bad >= 0)
    throw new AnalysisInputError(
      `the ${name} sample must hold finite numbers ≥ 0 (the effect is a ratio of medians); ${name}[${bad}] is ${sample[bad]}`,
    );
}

function median(sample: readonly number[]): number {
  const sorted = [...sample].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rank sum of the first `n1` entries of the pooled sample, and Σ(t³ − t) over tie groups. */
function rankStatistics(
  first: readonly number[],
  second: readonly number[],
): { rankSum: number; ties: number } {
  const pooled = [
    ...first.map((value) => ({ value, first: true })),
    ...second.map((value) => ({ value, first: false })),
  ].sort((a, b) => a.value - b.value);
  let rankSum = 0;
  let ties = 0;
  for (let start = 0; start < pooled.length;) {
    let end = start;
    while (end + 1 < pooled.length && pooled[end + 1]!.value === pooled[start]!.value) end += 1;
    const size = end - start + 1;
    const rank = (start + end) / 2 + 1; // the average of ranks start+1 … end+1
    for (let i = start; i <= end; i += 1) if (pooled[i]!.first) rankSum += rank;
    ties += size * size * size - size;
    start = end + 1;
  }
  return { rankSum, ties };
}

function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/**
 * Compares a canary sample against a stable one with a one-sided Mann-Whitney U test (normal
 * approximation with tie and continuity corrections) plus a practical-significance check on
 * the medians:
 *
 * - `pass` when the canary's median is within `tolerance` of the stable median (it may even
 *   be significantly, but tolerably, worse);
 * - `fail` when it is worse than tolerated and the test says so with `confidence`
 *   (p-value < 1 − confidence);
 * - `marginal` when it is worse than tolerated but not significantly: too few or too noisy
 *   samples to tell, which calls for a human or more data.
 *
 * Samples are finite numbers ≥ 0 (latencies, rates, ratios). Deterministic and symmetric:
 * swapping the samples and reversing `direction` gives the same verdict, z, p-value and effect.
 */
export function mannWhitneyJudge(
  canary: readonly number[],
  stable: readonly number[],
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  const opts = mannWhitneyOptionsWithDefaults(options);
  checkSample('canary', canary);
  checkSample('stable', stable);
  const n1 = canary.length;
  const n2 = stable.length;
  const n = n1 + n2;
  const { rankSum, ties } = rankStatistics(canary, stable);
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  const lowerIsBetter = opts.direction === JudgeDirection.lowerIsBetter;
  // U of "canary worse": larger values are worse when lower is better, smaller ones otherwise.
  const uWorse = lowerIsBetter ? u : n1 * n2 - u;
  const sd = Math.sqrt(variance);
  const z = sd > 0 ? (uWorse - mean - 0.5) / sd : 0;
  const pValue = sd > 0 ? normalSurvival(z) : 1;

  const medians = { canary: median(canary), stable: median(stable) };
  const [worse, better] = lowerIsBetter ? [medians.canary, medians.stable] : [medians.stable, medians.canary];
  const effect = better > 0 ? worse / better - 1 : worse === 0 ? 0 : null;

  const alpha = 1 - opts.confidence;
  const beyondTolerance = effect === null || effect > opts.tolerance;
  const significant = pValue < alpha;
  const verdict = !beyondTolerance
    ? JudgeVerdict.pass
    : significant
      ? JudgeVerdict.fail
      : JudgeVerdict.marginal;
  const how =
    effect === null
      ? `canary median ${medians.canary} vs stable ${medians.stable}: unboundedly worse`
      : `canary median ${medians.canary} vs stable ${medians.stable}: ${percent(Math.abs(effect))} ${effect > 0 ? 'worse' : 'better or equal'} (${opts.direction}, tolerance ${percent(opts.tolerance)})`;
  const test = `p=${pValue.toPrecision(3)} ${significant ? '<' : '≥'} α=${alpha.toPrecision(3)}`;
  const reason =
    verdict === JudgeVerdict.pass
      ? `${how}; within tolerance (${test})`
      : verdict === JudgeVerdict.fail
        ? `${how}; significantly worse (${test})`
        : `${how}; but not significant (${test})`;
  return {
    verdict,
    u,
    z,
    pValue,
    effect,
    medians,
    sizes: { canary: n1, stable: n2 },
    options: opts,
    reason,
  };
}
