import { SIMULATED_READY_DELAY_ANNOTATION } from './kube-stages.ts';

/** Options for {@link inferenceDeployment}. */
export interface InferenceDeploymentOptions {
  /** @default 'ml' */
  namespace?: string;
  /** Simulated pod start delay (a Go duration), see SIMULATED_READY_DELAY_ANNOTATION. */
  readyDelay?: string;
  /** `nvidia.com/gpu` per replica; 0 asks for none. @default 1 */
  gpus?: number;
  /** @default '500m' */
  cpu?: string;
  /** @default '1Gi' */
  memory?: string;
}

/**
 * Sample workloads for the demo and the tests: a GPU inference Deployment, labelled with its
 * team so that team-scoped policies match it.
 */
export function inferenceDeployment(
  name: string,
  replicas: number,
  options: InferenceDeploymentOptions = {},
) {
  const namespace = options.namespace ?? 'ml';
  const gpus = options.gpus ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name, team: 'ml-platform' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          ...(options.readyDelay && {
            annotations: { [SIMULATED_READY_DELAY_ANNOTATION]: options.readyDelay },
          }),
        },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'registry.local/inference:v1',
              resources: {
                requests: {
                  cpu: options.cpu ?? '500m',
                  memory: options.memory ?? '1Gi',
                  ...(gpus > 0 && { 'nvidia.com/gpu': String(gpus) }),
                },
                ...(gpus > 0 && { limits: { 'nvidia.com/gpu': String(gpus) } }),
              },
            },
          ],
        },
      },
    },
  };
}
