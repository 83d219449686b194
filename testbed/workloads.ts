import { SIMULATED_READY_DELAY_ANNOTATION } from './kube-stages.ts';

/**
 * Sample workloads for the demo and the tests: a GPU inference Deployment, labelled with its
 * team so that team-scoped policies match it.
 */
export function inferenceDeployment(
  name: string,
  replicas: number,
  options: { namespace?: string; readyDelay?: string } = {},
) {
  const namespace = options.namespace ?? 'ml';
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
                requests: { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' },
                limits: { 'nvidia.com/gpu': '1' },
              },
            },
          ],
        },
      },
    },
  };
}
