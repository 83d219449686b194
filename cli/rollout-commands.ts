import type { Command } from 'commander';
import type { RolloutSummary, RolloutView } from '../api/rollout-service.ts';
import { ValidationError } from '../domain/errors.ts';
import {
  TERMINAL_ROLLOUT_PHASES,
  type AnalysisRunStatus,
  type RolloutPhase,
  type RolloutStatus,
} from '../domain/rollout.ts';
import type { ApiClient } from './api-client.ts';
import { readPlanFile } from './plan-commands.ts';

const ID_PATTERN = /^[a-z0-9-]+\/[a-z0-9-]+\/[a-z0-9-]+$/;

/** `cluster/namespace/name` (or `rollout/cluster/namespace/name`, the workflow id). */
function rolloutPath(id: string): string {
  const bare = id.replace(/^rollout\//, '');
  if (!ID_PATTERN.test(bare))
    throw new ValidationError('invalid rollout id', [
      { path: 'id', message: `"${id}" is not cluster/namespace/name (e.g. local/ml/inference)` },
    ]);
  return `/v1/rollouts/${bare}`;
}

const STEP_MARK: Record<string, string> = {
  Pending: ' ',
  Running: '>',
  Completed: '+',
  Skipped: '-',
  Failed: 'x',
};
const MEASUREMENT_MARK: Record<string, string> = {
  Successful: '+',
  Failed: 'x',
  Inconclusive: '?',
  Error: '!',
};

function bar(weight: number, width = 20): string {
  const filled = Math.round((weight / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function lastValue(values: unknown[] | undefined): string {
  const v = values?.[0];
  if (typeof v === 'number') return String(Number(v.toPrecision(4)));
  return typeof v === 'string' ? v : '-';
}

function formatAnalysis(analysis: AnalysisRunStatus): string[] {
  const where = analysis.stepIndex === null ? '' : ` (step ${analysis.stepIndex})`;
  const lines = [`  analysis ${analysis.id}${where}: ${analysis.phase} - ${analysis.message}`];
  for (const metric of analysis.metrics) {
    const marks = metric.measurements.map((m) => MEASUREMENT_MARK[m.phase] ?? '?').join('');
    const last = metric.measurements.at(-1);
    lines.push(
      `    ${metric.name.padEnd(16)} ${metric.decision.padEnd(12)} measured ${String(metric.counts.measured).padStart(3)}` +
        `  last ${lastValue(last?.values).padEnd(8)} [${marks}]`,
    );
  }
  for (const judge of analysis.judges) {
    const r = judge.result as { pValue?: number; effect?: number | null } | null;
    const stats =
      r && typeof r.pValue === 'number'
        ? `  p=${r.pValue.toFixed(3)} effect=${r.effect === null || r.effect === undefined ? 'n/a' : `${(r.effect * 100).toFixed(1)}%`}`
        : '';
    lines.push(`    judge ${judge.name.padEnd(10)} ${judge.verdict ?? 'pending'}${stats}`);
  }
  return lines;
}

/** One readable block per rollout: phase, traffic, steps, analyses. */
export function formatRollout(view: RolloutView): string {
  const status: RolloutStatus | null = view.status;
  if (!status) return `rollout ${view.rolloutId}  ${view.kind ?? ''}  phase=${view.phase}  (no live status)`;
  const current = status.currentStep === null ? undefined : status.steps[status.currentStep];
  const step = current ? `  step ${current.index}: ${current.description}` : '';
  const lines = [`rollout ${view.rolloutId}  ${status.kind}  ${status.phase}${step}`];
  if (status.message) lines.push(`  ${status.message}`);
  if (status.pause) {
    const until = status.pause.until ? ` until ${status.pause.until}` : ' until promoted';
    lines.push(`  paused (${status.pause.reason})${until}`);
  }
  if (status.waitingFor) lines.push(`  waiting for: ${status.waitingFor}`);
  const { name } = status.target;
  if (status.kind === 'canary') {
    lines.push(
      status.phase === 'Promoted'
        ? `  traffic  ${bar(100)} 100% on the new template (${name} runs it)`
        : `  traffic  ${bar(status.weight)} ${status.weight}% canary (replica ratio)`,
    );
    lines.push(
      `  replicas stable ${name}: ${status.replicas.stable}   canary ${name}-canary: ${status.replicas.canary}   (total ${status.replicas.total})`,
    );
  } else {
    const side = status.activeSide ?? 'promoted';
    lines.push(`  active   ${side}   traffic on the new template ${bar(status.weight)} ${status.weight}%`);
    lines.push(
      `  replicas blue ${name}: ${status.replicas.stable}   green ${name}-green: ${status.replicas.canary}`,
    );
  }
  lines.push('  steps');
  for (const s of status.steps) {
    const note = s.message ? `  (${s.message})` : '';
    lines.push(`   ${STEP_MARK[s.phase] ?? ' '} ${String(s.index).padStart(2)} ${s.description}${note}`);
  }
  for (const analysis of status.analyses) lines.push(...formatAnalysis(analysis));
  return lines.join('\n');
}

/** `sentinel rollout ...` */
export function registerRolloutCommands(program: Command, api: () => ApiClient): void {
  const rollout = program
    .command('rollout')
    .description('start, watch and control canary and blue/green rollouts');

  const watch = async (id: string, intervalMs: number, output: string): Promise<RolloutView> => {
    const tty = process.stdout.isTTY && output === 'text';
    let last = '';
    for (;;) {
      const { body } = await api().request<RolloutView>('GET', rolloutPath(id));
      const frame = output === 'json' ? JSON.stringify(body, null, 2) : formatRollout(body);
      if (frame !== last) {
        // A terminal is redrawn in place; a pipe or file gets each new state once.
        if (tty) process.stdout.write(`\x1b[H\x1b[2J${frame}\n`);
        else process.stdout.write(`--- ${new Date().toISOString()}\n${frame}\n`);
        last = frame;
      }
      if (TERMINAL_ROLLOUT_PHASES.has(body.phase as RolloutPhase)) return body;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  };

  rollout
    .command('start')
    .description('start a rollout from a YAML or JSON file (docs/rollouts.md)')
    .argument('<file>', 'rollout spec (YAML or JSON)')
    .option('-w, --watch', 'then watch it until it ends')
    .option('--interval <ms>', 'how often --watch reads the status', '500')
    .action(async (file: string, opts: { watch?: boolean; interval: string }) => {
      const { body } = await api().request<RolloutView>('POST', '/v1/rollouts', readPlanFile(file));
      process.stderr.write(`started rollout ${body.rolloutId} (workflow ${body.workflowId})\n`);
      if (!opts.watch) return;
      const end = await watch(body.rolloutId, Number(opts.interval), 'text');
      if (end.phase !== 'Promoted') process.exitCode = 2;
    });

  rollout
    .command('get')
    .description('show a rollout: phase, step, traffic, analyses')
    .argument('<id>', 'cluster/namespace/name')
    .option('-w, --watch', 'redraw live progress until the rollout ends')
    .option('--interval <ms>', 'how often --watch reads the status', '500')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (id: string, opts: { watch?: boolean; interval: string; output: string }) => {
      if (opts.watch) {
        const end = await watch(id, Number(opts.interval), opts.output);
        if (end.phase !== 'Promoted') process.exitCode = 2;
        return;
      }
      const { body } = await api().request<RolloutView>('GET', rolloutPath(id));
      console.log(opts.output === 'json' ? JSON.stringify(body, null, 2) : formatRollout(body));
    });

  rollout
    .command('list')
    .description('list rollouts (Temporal visibility), newest first')
    .option('--phase <phase>', 'e.g. Paused')
    .option('--cluster <cluster>')
    .option('--running', 'only rollouts still running')
    .action(async (opts: { phase?: string; cluster?: string; running?: boolean }) => {
      const query = new URLSearchParams({
        ...(opts.phase && { phase: opts.phase }),
        ...(opts.cluster && { cluster: opts.cluster }),
        ...(opts.running && { running: 'true' }),
      });
      const { body } = await api().request<{ items: RolloutSummary[] }>(
        'GET',
        `/v1/rollouts?${query.toString()}`,
      );
      for (const item of body.items)
        console.log(
          `${item.rolloutId.padEnd(40)} ${(item.kind ?? '').padEnd(10)} ${(item.phase ?? '').padEnd(20)} step ${item.step ?? '-'}`,
        );
    });

  for (const action of ['pause', 'resume', 'abort', 'promote'] as const) {
    const command = rollout
      .command(action)
      .description(
        {
          pause: 'hold a rollout before its next step',
          resume: "undo an operator's pause",
          abort: 'stop a rollout and roll back everything it changed',
          promote: 'end the current pause (--full: skip every remaining step)',
        }[action],
      )
      .argument('<id>', 'cluster/namespace/name')
      .option('--reason <text>', 'why (recorded with the action)')
      .option('--actor <name>', 'who', process.env.USER ?? 'cli');
    if (action === 'promote') command.option('--full', 'skip every remaining step and analysis');
    command.action(async (id: string, opts: { reason?: string; actor: string; full?: boolean }) => {
      const { body } = await api().request<{ accepted: boolean; message: string }>(
        'POST',
        `${rolloutPath(id)}/${action}`,
        {
          actor: opts.actor,
          ...(opts.reason && { reason: opts.reason }),
          ...(opts.full && { full: true }),
        },
      );
      console.log(`${body.accepted ? 'accepted' : 'refused'}: ${body.message}`);
      if (!body.accepted) process.exitCode = 2;
    });
  }
}
