import { z } from 'zod';
import { describeStepForPolicy } from '../activities/policy-inputs.ts';
import { ConflictError, NotFoundError, SentinelError, ValidationError } from '../domain/errors.ts';
import { WorkloadTargetSchema, workloadKey, type ActionPlan } from '../domain/plan.ts';
import { KubeError, type ClusterRegistry } from '../k8s/index.ts';
import {
  compilePolicies,
  decisionDigest,
  DecisionResult,
  evaluate,
  PolicyActionSchema,
  PolicyDocumentSchema,
  PolicyExemptionSchema,
  PolicyRefSchema,
  PolicySkipSchema,
  PolicyValidationError,
  PolicyViolationSchema,
  validatePolicyDocument,
  type PolicyDocument,
} from '../policy/index.ts';
import type { Database } from '../store/database.ts';
import { contentDigest } from '../store/digest.ts';
import {
  deletePolicy,
  listCurrentPolicies,
  listPolicyVersions,
  putPolicy,
  type PolicyRow,
} from '../store/policies.ts';

/** One stored version of a policy, as the API shows it. */
export const PolicyVersionViewSchema = z.object({
  id: z.string(),
  version: z.number().int(),
  /** Who stored this version (the caller's role, or the name given by the caller). */
  createdBy: z.string(),
  createdAt: z.string(),
  /** Set on the newest version once the policy is deleted; older versions stay readable. */
  deletedAt: z.string().nullable(),
  document: PolicyDocumentSchema,
});
export type PolicyVersionView = z.infer<typeof PolicyVersionViewSchema>;

/** The answer to a write: the version now current and whether the write changed anything. */
export const PolicyWriteResultSchema = PolicyVersionViewSchema.extend({
  /** False when the document equals the current version: nothing was stored. */
  changed: z.boolean(),
  /** The version that was current before the write; null for a new (or re-created) policy. */
  previousVersion: z.number().int().nullable(),
});
export type PolicyWriteResult = z.infer<typeof PolicyWriteResultSchema>;

/** The decision for one step of a dry-run plan, with the live facts it was made on. */
export const StepEvaluationSchema = z.object({
  index: z.number().int(),
  verb: z.string(),
  target: WorkloadTargetSchema,
  /** `cluster/namespace/kind/name`. */
  workload: z.string(),
  result: z.enum([DecisionResult.allow, DecisionResult.deny, DecisionResult.warn]),
  violations: z.array(PolicyViolationSchema),
  matchedPolicies: z.array(PolicyRefSchema),
  exemptions: z.array(PolicyExemptionSchema),
  notApplicable: z.array(PolicySkipSchema),
  /** The action as the plan activity would build it from the live workload. */
  action: PolicyActionSchema,
  /** Digest of the decision's inputs, as an audit record would store it. */
  inputDigest: z.string(),
});
export type StepEvaluation = z.infer<typeof StepEvaluationSchema>;

/** `POST /v1/policies/evaluate`: what the current policies would decide for each step of a plan. */
export const PolicyEvaluationSchema = z.object({
  planId: z.string(),
  /** The most severe step result (`deny` > `warn` > `allow`). */
  result: z.enum([DecisionResult.allow, DecisionResult.deny, DecisionResult.warn]),
  /** The `now` of the evaluation context. */
  evaluatedAt: z.string(),
  /** Every policy in force (current versions), matched or not. */
  policies: z.array(PolicyRefSchema),
  steps: z.array(StepEvaluationSchema),
});
export type PolicyEvaluation = z.infer<typeof PolicyEvaluationSchema>;

const SEVERITY = { allow: 0, warn: 1, deny: 2 } as const;

/**
 * What the HTTP API does with policies: versioned CRUD over the store, and dry-run
 * evaluation of a plan against the current policies and the live cluster state, exactly as
 * the plan activity evaluates a step, without starting a workflow or changing anything.
 */
export class PolicyService {
  constructor(
    private readonly db: Database,
    private readonly clusters: ClusterRegistry | undefined,
  ) {}

  /** The current version of every policy that is not deleted, in id order. */
  async listCurrent(): Promise<PolicyDocument[]> {
    return (await listCurrentPolicies(this.db)).map(canonical);
  }

  /**
   * The current version, or version `version`, of a policy that is not deleted. A deleted
   * policy is gone from `/v1/policies` (404); its versions stay readable for the audit
   * through {@link PolicyService.history}.
   */
  async get(id: string, version?: number): Promise<PolicyVersionView> {
    const rows = await this.liveVersions(id);
    if (version === undefined) return toView(rows[0]!);
    const row = rows.find((r) => r.version === version);
    if (!row) throw new NotFoundError(`policy ${id} version ${version}`);
    return toView(row);
  }

  /** Every stored version of a policy that is not deleted, newest first. */
  async versions(id: string): Promise<PolicyVersionView[]> {
    return (await this.liveVersions(id)).map(toView);
  }

  /**
   * The audit's view: every stored version, newest first, deleted ones included, or version
   * `version` alone. A delete never removes history.
   */
  async history(id: string): Promise<PolicyVersionView[]>;
  async history(id: string, version: number): Promise<PolicyVersionView>;
  async history(id: string, version?: number): Promise<PolicyVersionView[] | PolicyVersionView> {
    const rows = await listPolicyVersions(this.db, id);
    if (rows.length === 0) throw new NotFoundError(`policy ${id}`);
    if (version === undefined) return rows.map(toView);
    const row = rows.find((r) => r.version === version);
    if (!row) throw new NotFoundError(`policy ${id} version ${version}`);
    return toView(row);
  }

  /** The versions of a policy, newest first; a 404 when there are none or the policy was deleted. */
  private async liveVersions(id: string): Promise<PolicyRow[]> {
    const rows = await listPolicyVersions(this.db, id);
    const latest = rows[0];
    if (!latest) throw new NotFoundError(`policy ${id}`);
    if (latest.deletedAt !== null) {
      throw new SentinelError(
        'SENTINEL_ERR_NOT_FOUND',
        `policy ${id} was deleted at ${isoTime(latest.deletedAt)}; its versions stay readable for the audit (GET /v1/policy-history/${id})`,
      );
    }
    return rows;
  }

  /**
   * Creates a policy. Sending the current content again is not an error (nothing changes);
   * different content under an existing id is a 409: a new version is made with PUT.
   */
  async create(body: unknown, actor: string): Promise<PolicyWriteResult> {
    const document = toPolicyDocument(body);
    const latest = (await listPolicyVersions(this.db, document.id))[0];
    if (latest && latest.deletedAt === null) {
      if (sameContent(latest.document as PolicyDocument, document)) {
        return { ...toView(latest), changed: false, previousVersion: latest.version };
      }
      throw new ConflictError(
        `policy ${document.id} already exists (version ${latest.version}); PUT /v1/policies/${document.id} stores a new version`,
        { policyId: document.id, version: latest.version },
      );
    }
    return this.store(document, actor, latest);
  }

  /** Stores `body` as the next version of `id` (or as its first). The id in the body must be `id`. */
  async put(id: string, body: unknown, actor: string): Promise<PolicyWriteResult> {
    const document = toPolicyDocument(body);
    if (document.id !== id) {
      throw new ValidationError('invalid policy document', [
        { path: 'id', message: `must equal the id in the path ("${id}"), received "${document.id}"` },
      ]);
    }
    const latest = (await listPolicyVersions(this.db, id))[0];
    return this.store(document, actor, latest);
  }

  /** Soft delete: the newest version is marked deleted; every version stays readable. */
  async delete(id: string): Promise<PolicyVersionView> {
    if (!(await deletePolicy(this.db, id))) throw new NotFoundError(`policy ${id}`);
    return toView((await listPolicyVersions(this.db, id))[0]!);
  }

  /**
   * Evaluates each step of `plan` against the current policies and the workload as it is now
   * in its cluster, with the same action and context the plan activity builds. Every step is
   * evaluated against the present state: a later step does not see what an earlier one would
   * change. Nothing is started, written or changed.
   */
  async evaluate(plan: ActionPlan): Promise<PolicyEvaluation> {
    const clusters = this.clusters;
    if (!clusters) {
      throw new SentinelError(
        'SENTINEL_ERR_UNAVAILABLE',
        'this API server has no cluster registry, and a dry run needs the live workloads',
      );
    }
    const now = new Date();
    const documents = await listCurrentPolicies(this.db);
    const inputs = await Promise.all(
      plan.steps.map((step, index) =>
        describeStepForPolicy({ db: this.db, clusters }, plan, step, now, documents).catch((err: unknown) => {
          throw liveStateError(err, index);
        }),
      ),
    );
    const policies = compilePolicies(documents);
    const steps = plan.steps.map((step, index): StepEvaluation => {
      const { action, context } = inputs[index]!;
      const decision = evaluate(action, context, policies);
      return {
        index,
        verb: step.verb,
        target: step.target,
        workload: workloadKey(step.target),
        ...decision,
        action,
        inputDigest: decisionDigest(action, context, policies),
      };
    });
    const result = steps.reduce<DecisionResult>(
      (worst, s) => (SEVERITY[s.result] > SEVERITY[worst] ? s.result : worst),
      DecisionResult.allow,
    );
    return {
      planId: plan.id,
      result,
      evaluatedAt: now.toISOString(),
      policies: documents.map((d) => ({ id: d.id, version: d.version })),
      steps,
    };
  }

  private async store(
    document: PolicyDocument,
    actor: string,
    latest: PolicyRow | undefined,
  ): Promise<PolicyWriteResult> {
    const { document: stored, created } = await putPolicy(this.db, document, actor);
    const rows = await listPolicyVersions(this.db, stored.id);
    const row = rows.find((r) => r.version === stored.version)!;
    const current = latest && latest.deletedAt === null ? latest.version : null;
    return { ...toView(row), changed: created, previousVersion: created ? current : stored.version };
  }
}

/** Equal apart from the version number, the way the store decides whether a write changes anything. */
function sameContent(a: PolicyDocument, b: PolicyDocument): boolean {
  return contentDigest({ ...a, version: 0 }) === contentDigest({ ...b, version: 0 });
}

/**
 * Validates a request body as a policy document; a bad one is a 400 naming each field, and so
 * is one the schema's own code throws on (a value that cannot be validated is invalid input).
 */
export function toPolicyDocument(body: unknown): PolicyDocument {
  try {
    return validatePolicyDocument(body);
  } catch (err) {
    if (err instanceof PolicyValidationError) throw policyInvalid(err);
    throw policyInvalid(
      new PolicyValidationError(
        [{ path: '', message: `cannot be validated: ${err instanceof Error ? err.message : String(err)}` }],
        { cause: err },
      ),
    );
  }
}

/** A {@link PolicyValidationError} as the API reports it: `SENTINEL_ERR_POLICY_INVALID`, with its issues. */
export function policyInvalid(err: PolicyValidationError, what = 'invalid policy document'): SentinelError {
  return new SentinelError(err.code, `${what}: ${err.message}`, {
    cause: err,
    details: { issues: err.issues.map((i) => ({ ...i })) },
  });
}

function toView(row: PolicyRow): PolicyVersionView {
  return {
    id: row.id,
    version: row.version,
    createdBy: row.createdBy,
    createdAt: isoTime(row.createdAt),
    deletedAt: row.deletedAt === null ? null : isoTime(row.deletedAt),
    document: canonical(row.document as PolicyDocument),
  };
}

/** The stored document in schema field order (jsonb keeps keys in its own order). */
function canonical(document: PolicyDocument): PolicyDocument {
  return validatePolicyDocument(document);
}

/** Postgres renders timestamptz as `2025-06-11 15:00:00.123+00`; the API speaks ISO 8601. */
function isoTime(value: string): string {
  const ms = Date.parse(value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

/** Live state that cannot be read, reported against the step that needs it. */
function liveStateError(err: unknown, stepIndex: number): SentinelError {
  if (!(err instanceof KubeError)) {
    return new SentinelError('SENTINEL_ERR_INTERNAL', `step ${stepIndex}: ${String(err)}`, { cause: err });
  }
  const missing =
    err.code === 'SENTINEL_ERR_K8S_NOT_FOUND' || err.code === 'SENTINEL_ERR_K8S_UNKNOWN_CLUSTER';
  const code = missing
    ? 'SENTINEL_ERR_NOT_FOUND'
    : err.retryable
      ? 'SENTINEL_ERR_UNAVAILABLE'
      : 'SENTINEL_ERR_INTERNAL';
  return new SentinelError(code, `cannot read the live workload of step ${stepIndex}: ${err.message}`, {
    cause: err,
    details: {
      issues: [{ path: `steps.${stepIndex}.target`, message: err.message }],
      kubernetes: err.details,
    },
  });
}
