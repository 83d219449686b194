import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import type {
  PolicyEvaluation,
  PolicyVersionView,
  PolicyWriteResult,
  StepEvaluation,
} from '../api/policy-service.ts';
import { SentinelError, ValidationError } from '../domain/errors.ts';
import {
  parsePolicyDocuments,
  PolicyValidationError,
  type PolicyDocument,
  type PolicyIssue,
} from '../policy/index.ts';
import type { ApiClient } from './api-client.ts';
import { readPlanFile } from './plan-commands.ts';

const POLICY_FILE = /\.(ya?ml|json)$/;

/** The files named, with each directory replaced by its policy files (`*.yaml`, `*.yml`, `*.json`), sorted. */
function policyFiles(paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (err) {
      throw new ValidationError(`cannot read ${path}`, [{ path: '', message: (err as Error).message }]);
    }
    if (!isDirectory) return [path];
    return readdirSync(path)
      .filter((name) => POLICY_FILE.test(name))
      .sort()
      .map((name) => join(path, name));
  });
}

/**
 * Reads and validates every policy in the files before anything is sent, so a typo in the
 * third file stores nothing. Errors name the file, the document, the field and the line.
 */
export function readPolicyFiles(paths: readonly string[]): { file: string; document: PolicyDocument }[] {
  const files = policyFiles(paths);
  if (files.length === 0) {
    throw new ValidationError('no policy files', [
      { path: '', message: `${paths.join(', ')} holds no *.yaml, *.yml or *.json files` },
    ]);
  }
  const seen = new Map<string, string>();
  return files.flatMap((file) => {
    let documents: PolicyDocument[];
    try {
      documents = parsePolicyDocuments(readFileSync(file, 'utf8'));
    } catch (err) {
      if (err instanceof PolicyValidationError) {
        throw new SentinelError(err.code, `${file}: invalid policy document`, {
          details: {
            issues: err.issues.map((issue) => ({ path: issue.path, message: issueMessage(issue) })),
          },
        });
      }
      throw new ValidationError(`cannot read ${file}`, [{ path: '', message: (err as Error).message }]);
    }
    return documents.map((document) => {
      const first = seen.get(document.id);
      if (first !== undefined) {
        throw new SentinelError('SENTINEL_ERR_POLICY_INVALID', `${file}: invalid policy document`, {
          details: {
            issues: [{ path: 'id', message: `policy "${document.id}" is also defined in ${first}` }],
          },
        });
      }
      seen.set(document.id, file);
      return { file, document };
    });
  });
}

/** `expected number, received string (line 7, document 2)`. */
function issueMessage(issue: PolicyIssue): string {
  const where = [
    ...(issue.line === undefined ? [] : [`line ${issue.line}`]),
    ...(issue.document === undefined ? [] : [`document ${issue.document}`]),
  ];
  return where.length === 0 ? issue.message : `${issue.message} (${where.join(', ')})`;
}

/** `ml-max-replicas@2  updated (was @1)`. */
export function formatWrite(result: PolicyWriteResult): string {
  const what = !result.changed
    ? 'unchanged'
    : result.previousVersion === null
      ? 'created'
      : `updated (was @${result.previousVersion})`;
  return `${result.id}@${result.version}  ${what}`;
}

const LABEL: Record<string, string> = { enforce: 'deny', warn: 'warn', dryrun: 'dryrun' };

function describeChange(step: StepEvaluation): string {
  const { currentReplicas, desiredReplicas } = step.action;
  if (currentReplicas !== undefined && desiredReplicas !== undefined && currentReplicas !== desiredReplicas)
    return `  replicas ${currentReplicas} -> ${desiredReplicas}`;
  return '';
}

/** One block per step: its decision, then each violation, waiver and skipped policy. */
export function formatEvaluation(evaluation: PolicyEvaluation): string {
  const lines = [
    `plan ${evaluation.planId}: ${evaluation.result}  (${evaluation.policies.length} ${evaluation.policies.length === 1 ? 'policy' : 'policies'} in force, evaluated at ${evaluation.evaluatedAt})`,
  ];
  for (const step of evaluation.steps) {
    lines.push(`step ${step.index} ${step.verb} ${step.workload}${describeChange(step)}: ${step.result}`);
    for (const v of step.violations) {
      lines.push(
        `  ${LABEL[v.mode]!.padEnd(6)} ${v.policyId}@${v.version} (${v.ruleType}, ${v.mode}): ${v.message}`,
      );
    }
    for (const e of step.exemptions) {
      const waived = e.waivedViolation ? `: waived "${e.waivedViolation}"` : '';
      lines.push(
        `  ${(e.applied ? 'exempt' : 'noexempt').padEnd(6)} ${e.policyId}@${e.policyVersion} by ${e.exceptionId}@${e.exceptionVersion} (${e.reason})${waived}`,
      );
    }
    for (const s of step.notApplicable)
      lines.push(`  ${'skip'.padEnd(6)} ${s.policyId}@${s.version}: ${s.reason}`);
    const matched = step.matchedPolicies.map((p) => `${p.id}@${p.version}`).join(', ');
    lines.push(`  matched: ${matched || 'no policy'}`);
  }
  return lines.join('\n');
}

const path = (id: string) => `/v1/policies/${encodeURIComponent(id)}`;

/** `sentinel policy ...` */
export function registerPolicyCommands(program: Command, api: () => ApiClient): void {
  const policy = program
    .command('policy')
    .description('store, inspect and test the versioned policies every plan step is checked against');

  policy
    .command('apply')
    .description(
      'store policies from YAML/JSON files (one or many documents each; a directory means its files)',
    )
    .argument('<files...>', 'policy files or directories')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (files: string[], opts: { output: string }) => {
      const client = api();
      const results: PolicyWriteResult[] = [];
      for (const { document } of readPolicyFiles(files)) {
        const { body } = await client.request<PolicyWriteResult>('PUT', path(document.id), document);
        results.push(body);
        if (opts.output !== 'json') console.log(formatWrite(body));
      }
      if (opts.output === 'json') console.log(JSON.stringify(results, null, 2));
    });

  policy
    .command('list')
    .description('list the current version of every policy')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (opts: { output: string }) => {
      const { body } = await api().request<{ items: PolicyDocument[] }>('GET', '/v1/policies');
      if (opts.output === 'json') {
        console.log(JSON.stringify(body.items, null, 2));
        return;
      }
      if (body.items.length === 0) {
        console.log('no policies');
        return;
      }
      const rows = body.items.map((p) => [
        p.id,
        String(p.version),
        p.mode,
        String(p.priority),
        p.rule.type,
        p.description,
      ]);
      const header = ['ID', 'VERSION', 'MODE', 'PRIORITY', 'RULE', 'DESCRIPTION'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const row of [header, ...rows]) {
        console.log(
          row
            .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
            .join('  ')
            .trimEnd(),
        );
      }
    });

  policy
    .command('get')
    .description('print a policy document (the current version, or --version N, also after a delete)')
    .argument('<id>', 'policy id')
    .option('--version <n>', 'a specific version')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .action(async (id: string, opts: { version?: string; output: string }) => {
      // A given version is read from the history, where a deleted policy's versions stay.
      const url =
        opts.version === undefined
          ? path(id)
          : `/v1/policy-history/${encodeURIComponent(id)}/${encodeURIComponent(opts.version)}`;
      const { body } = await api().request<PolicyVersionView>('GET', url);
      if (opts.output === 'json') {
        console.log(JSON.stringify(body, null, 2));
        return;
      }
      const deleted = body.deletedAt ? `, deleted at ${body.deletedAt}` : '';
      console.log(`# ${body.id}@${body.version}, stored by ${body.createdBy} at ${body.createdAt}${deleted}`);
      process.stdout.write(toYaml(body.document));
    });

  policy
    .command('versions')
    .description('list every stored version of a policy, newest first, deleted ones included')
    .argument('<id>', 'policy id')
    .action(async (id: string) => {
      const { body } = await api().request<{ items: PolicyVersionView[] }>(
        'GET',
        `/v1/policy-history/${encodeURIComponent(id)}`,
      );
      for (const v of body.items) {
        const deleted = v.deletedAt ? `  deleted ${v.deletedAt}` : '';
        console.log(`${v.id}@${v.version}  ${v.createdAt}  ${v.createdBy}${deleted}`);
      }
    });

  policy
    .command('delete')
    .description('delete a policy; its versions stay readable for the audit')
    .argument('<id>', 'policy id')
    .action(async (id: string) => {
      const { body } = await api().request<PolicyVersionView>('DELETE', path(id));
      console.log(
        `${body.id}@${body.version}  deleted (versions stay readable: sentinel policy versions ${body.id})`,
      );
    });

  policy
    .command('test')
    .description(
      'dry-run a plan file against the current policies and the live cluster state; exits 2 when a step is denied',
    )
    .argument('<plan-file>', 'ActionPlan file (YAML or JSON), as for `sentinel plan submit`')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (file: string, opts: { output: string }) => {
      const { body } = await api().request<PolicyEvaluation>(
        'POST',
        '/v1/policies/evaluate',
        readPlanFile(file),
      );
      console.log(opts.output === 'json' ? JSON.stringify(body, null, 2) : formatEvaluation(body));
      if (body.result === 'deny') process.exitCode = 2;
    });
}
