import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { PlanView } from '../api/plan-service.ts';
import { TERMINAL_PLAN_PHASES, type PlanPhase, type PlanStatus } from '../domain/plan.ts';
import { ValidationError } from '../domain/errors.ts';
import type { ApiClient } from './api-client.ts';

/** Reads a plan file (YAML or JSON) without interpreting it; the API validates it. */
export function readPlanFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read ${path}`, [{ path: '', message: (err as Error).message }]);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw new ValidationError(`${path} is neither YAML nor JSON`, [
      { path: '', message: (err as Error).message },
    ]);
  }
}

/** `replicas 2 → 4, image a → b`: each changed field with its old and new value. */
function formatChange(change: Record<string, unknown>): string {
  return Object.entries(change)
    .map(([field, value]) => {
      const { from, to } = (value ?? {}) as { from?: unknown; to?: unknown };
      return `${field} ${JSON.stringify(from)} → ${JSON.stringify(to)}`;
    })
    .join(', ');
}

/** One readable block per plan: phase, each step, each decision. */
export function formatPlan(view: PlanView): string {
  const lines = [`plan ${view.planId}  phase=${view.phase}  workflow=${view.workflowId}`];
  const status: PlanStatus | null = view.status;
  if (status?.message) lines.push(`  ${status.message}`);
  if (status?.waitingFor) lines.push(`  waiting for: ${status.waitingFor}`);
  for (const step of status?.steps ?? []) {
    const change = step.change ? `  ${formatChange(step.change)}` : '';
    lines.push(`  step ${step.index} ${step.verb.padEnd(10)} ${step.workload}  ${step.phase}${change}`);
    if (step.message) lines.push(`      ${step.message}`);
  }
  for (const decision of status?.decisions ?? []) {
    const why = decision.violations.map((v) => `${v.policyId}: ${v.message}`).join('; ');
    lines.push(`  policy step ${decision.stepIndex}: ${decision.result}${why ? ` (${why})` : ''}`);
  }
  return lines.join('\n');
}

async function waitForTerminal(api: ApiClient, planId: string, timeoutMs: number): Promise<PlanView> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const { body } = await api.request<PlanView>('GET', `/v1/plans/${encodeURIComponent(planId)}`);
    const progress = `${body.phase}${body.status?.currentStep != null ? ` (step ${body.status.currentStep})` : ''}`;
    if (progress !== last) {
      process.stderr.write(`  ${planId}: ${progress}\n`);
      last = progress;
    }
    if (TERMINAL_PLAN_PHASES.has(body.phase as PlanPhase)) return body;
    if (Date.now() > deadline)
      throw new Error(`plan ${planId} still ${body.phase} after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `sentinel plan ...` */
export function registerPlanCommands(program: Command, api: () => ApiClient): void {
  const plan = program.command('plan').description('submit, inspect and control ActionPlans');

  plan
    .command('submit')
    .description('submit an ActionPlan from a YAML or JSON file')
    .argument('<file>', 'plan file (YAML or JSON)')
    .option('-w, --wait', 'wait until the plan finishes and print its result')
    .option('--timeout <seconds>', 'how long --wait waits', '300')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (file: string, opts: { wait?: boolean; timeout: string; output: string }) => {
      const body = readPlanFile(file);
      const { body: view } = await api().request<PlanView & { created: boolean }>('POST', '/v1/plans', body);
      process.stderr.write(
        view.created
          ? `submitted plan ${view.planId} (workflow ${view.workflowId})\n`
          : `plan ${view.planId} was already submitted; not started again\n`,
      );
      const result = opts.wait
        ? await waitForTerminal(api(), view.planId, Number(opts.timeout) * 1000)
        : view;
      console.log(opts.output === 'json' ? JSON.stringify(result, null, 2) : formatPlan(result));
      if (opts.wait && result.phase !== 'Succeeded') process.exitCode = 2;
    });

  plan
    .command('get')
    .description('show a plan, its phase, steps and policy decisions')
    .argument('<id>', 'plan id')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (id: string, opts: { output: string }) => {
      const { body } = await api().request<PlanView>('GET', `/v1/plans/${encodeURIComponent(id)}`);
      console.log(opts.output === 'json' ? JSON.stringify(body, null, 2) : formatPlan(body));
    });

  plan
    .command('list')
    .description('list recent plans')
    .option('--phase <phase>', 'only plans in this phase')
    .action(async (opts: { phase?: string }) => {
      const query = opts.phase ? `?phase=${encodeURIComponent(opts.phase)}` : '';
      const { body } = await api().request<{ items: PlanView[] }>('GET', `/v1/plans${query}`);
      for (const item of body.items) console.log(`${item.planId.padEnd(40)} ${item.phase}`);
    });

  for (const action of ['pause', 'resume', 'abort'] as const) {
    plan
      .command(action)
      .description(`${action} a running plan`)
      .argument('<id>', 'plan id')
      .option('--reason <text>', 'why (recorded with the action)')
      .option('--actor <name>', 'who', process.env.USER ?? 'cli')
      .action(async (id: string, opts: { reason?: string; actor: string }) => {
        const { body } = await api().request<{ accepted: boolean; message: string }>(
          'POST',
          `/v1/plans/${encodeURIComponent(id)}/${action}`,
          { actor: opts.actor, ...(opts.reason ? { reason: opts.reason } : {}) },
        );
        console.log(`${body.accepted ? 'accepted' : 'refused'}: ${body.message}`);
        if (!body.accepted) process.exitCode = 2;
      });
  }
}
