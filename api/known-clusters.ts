import { ValidationError, type FieldIssue } from '../domain/errors.ts';
import type { ClusterRegistry } from '../k8s/index.ts';

/**
 * Refuses, as a 400 naming each field and the clusters that exist, any target whose cluster
 * the registry does not hold. A plan or rollout for an unknown cluster can never run, so it
 * is refused at submission instead of being started and retried. Without a registry (an
 * API with no clusters configured) nothing is checked.
 */
export function assertKnownClusters(
  clusters: ClusterRegistry | undefined,
  targets: readonly { path: string; cluster: string }[],
  what: string,
): void {
  if (!clusters) return;
  const known = clusters.names();
  const issues: FieldIssue[] = targets
    .filter((t) => !known.includes(t.cluster))
    .map((t) => ({
      path: t.path,
      message: `unknown cluster "${t.cluster}"; known clusters: ${known.join(', ') || 'none'}`,
    }));
  if (issues.length > 0) throw new ValidationError(what, issues);
}
