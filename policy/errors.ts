/**
 * Stable error codes of the policy engine. The API maps each to an HTTP status
 * (see docs/policy.md); callers match on `code`, never on the message text.
 */
export const PolicyErrorCode = {
  /** A policy document failed YAML/JSON parsing or schema validation (HTTP 422). */
  invalid: 'SENTINEL_ERR_POLICY_INVALID',
  /** A set of policies cannot be evaluated together, e.g. two documents share an id (HTTP 409). */
  setInvalid: 'SENTINEL_ERR_POLICY_SET_INVALID',
  /** The action or context given to `evaluate` is unusable, e.g. `now` is not a timestamp (HTTP 400). */
  inputInvalid: 'SENTINEL_ERR_POLICY_INPUT_INVALID',
} as const;
export type PolicyErrorCode = (typeof PolicyErrorCode)[keyof typeof PolicyErrorCode];

/** One problem found in a document: where (`rule.maxHourlyCost`) and why. */
export interface PolicyIssue {
  /** Field path inside the document (`rule.windows[0].cron`); `''` for the document itself. */
  readonly path: string;
  readonly message: string;
  /** 1-based position of the document in a multi-document source, when there are several. */
  readonly document?: number;
  /** 1-based source line of the field, when the document came from text. */
  readonly line?: number;
}

/** `document 2: rule.maxReplicas: expected number, received string (line 7)`. */
export function formatPolicyIssue(issue: PolicyIssue): string {
  const doc = issue.document === undefined ? '' : `document ${issue.document}: `;
  const path = issue.path === '' ? '' : `${issue.path}: `;
  const line = issue.line === undefined ? '' : ` (line ${issue.line})`;
  return `${doc}${path}${issue.message}${line}`;
}

/** Base class of every error the policy engine throws; `code` is stable across releases. */
export abstract class PolicyError extends Error {
  abstract readonly code: PolicyErrorCode;
}

/**
 * A policy document is not valid YAML/JSON or does not match the schema. The message lists
 * every issue as `path: reason`, e.g. `rule.maxReplicas: expected number, received string`.
 */
export class PolicyValidationError extends PolicyError {
  override readonly name = 'PolicyValidationError';
  readonly code = PolicyErrorCode.invalid;
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[], options?: { cause?: unknown }) {
    super(
      issues.map(formatPolicyIssue).join('; '),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.issues = issues;
  }
}

/** Policies that are each valid but cannot be evaluated together (duplicate ids). */
export class PolicySetError extends PolicyError {
  override readonly name = 'PolicySetError';
  readonly code = PolicyErrorCode.setInvalid;
}

/** `evaluate` was given an action or context it cannot read (e.g. an unparsable `now`). */
export class PolicyInputError extends PolicyError {
  override readonly name = 'PolicyInputError';
  readonly code = PolicyErrorCode.inputInvalid;
}
