import type { PodTemplateChange } from './rollout.ts';

// The pod template fields a rollout changes, as plain values: what a patch sets, and (with
// null for what did not exist) what it found, so a change and its inverse have one shape.
// Pure, so workflows build it from the spec and activities apply it.

type Nullable<T> = { [K in keyof T]: T[K] | null };

/**
 * Exactly the template fields a change touches, as values: what a patch sets, or (with
 * `null` for what did not exist) what it found. A template patch and its inverse are both one.
 */
export interface TemplateState {
  containers: {
    name: string;
    image?: string;
    env?: Record<string, string | null>;
    resources?: {
      requests?: Record<string, string | null>;
      limits?: Record<string, string | null>;
    };
  }[];
  labels?: Nullable<Record<string, string>>;
  annotations?: Nullable<Record<string, string>>;
}

/** A spec's template change as a {@link TemplateState} (quantities as the apiserver stores them). */
export function templateStateOf(change: PodTemplateChange): TemplateState {
  const quantities = (map: Record<string, string | number> | undefined) =>
    map && Object.fromEntries(Object.entries(map).map(([k, v]) => [k, String(v)]));
  return {
    containers: change.containers.map((c) => ({
      name: c.name,
      ...(c.image !== undefined && { image: c.image }),
      ...(c.env !== undefined && { env: { ...c.env } }),
      ...(c.resources !== undefined && {
        resources: {
          ...(c.resources.requests && { requests: quantities(c.resources.requests) }),
          ...(c.resources.limits && { limits: quantities(c.resources.limits) }),
        },
      }),
    })),
    ...(change.labels && { labels: { ...change.labels } }),
    ...(change.annotations && { annotations: { ...change.annotations } }),
  };
}
