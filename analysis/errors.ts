/**
 * Stable error codes of the analysis engine. Callers match on `code`, never on the message.
 * None of them is worth retrying: the same input fails the same way.
 */
export const AnalysisErrorCode = {
  /** An analysis template, metric or condition failed validation (HTTP 422). */
  invalid: 'SENTINEL_ERR_ANALYSIS_INVALID',
  /** Input given to a function is unusable: a missing template argument, an empty sample (HTTP 400). */
  input: 'SENTINEL_ERR_ANALYSIS_INPUT',
} as const;
export type AnalysisErrorCode = (typeof AnalysisErrorCode)[keyof typeof AnalysisErrorCode];

/** One problem found in a template: where (`metrics[0].successCondition`) and why. */
export interface AnalysisIssue {
  /** Field path inside the template; `''` for the template itself. */
  readonly path: string;
  readonly message: string;
}

/** Base class of every error the analysis engine throws; `code` is stable across releases. */
export abstract class AnalysisError extends Error {
  abstract readonly code: AnalysisErrorCode;
  /** Always false: analysis errors come from the input, so a retry fails the same way. */
  readonly retryable = false;
}

/** A template, metric or measurement does not match its schema; `issues` names every bad field. */
export class AnalysisValidationError extends AnalysisError {
  override readonly name = 'AnalysisValidationError';
  readonly code = AnalysisErrorCode.invalid;
  readonly issues: readonly AnalysisIssue[];

  constructor(what: string, issues: readonly AnalysisIssue[]) {
    super(
      `${what}: ${issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')}`,
    );
    this.issues = issues;
  }
}

/** A function was called with input it cannot use (e.g. the judge with an empty sample). */
export class AnalysisInputError extends AnalysisError {
  override readonly name = 'AnalysisInputError';
  readonly code = AnalysisErrorCode.input;
}
