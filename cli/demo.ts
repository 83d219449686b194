import type { PlanView } from '../api/plan-service.ts';
import { ClusterRegistry, applyObject, applyWorkload, getWorkload, waitForRollout } from '../k8s/index.ts';
import { parsePolicyDocument } from '../policy/index.ts';
import type { LocalStack } from '../stack/local-stack.ts';
import { putPolicy } from '../store/policies.ts';
import { toolsDir, TOOL_VERSIONS } from '../testbed/tools.ts';
import { inferenceDeployment } from '../testbed/workloads.ts';
import { ApiClient } from './api-client.ts';
import { formatPlan } from './plan-commands.ts';

const target = { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'inference' } as const;

const demoPolicy = `
id: ml-max-replicas
version: 1
description: Workloads in the ml namespace run at most 8 replicas.
priority: 100
mode: enforce
selector: { namespaces: [ml] }
rule: { type: quota, scope: workload, maxReplicas: 8 }
`;

/**
 * The demo of the main job: a GPU inference Deployment is scaled by an ActionPlan submitted
 * over the HTTP API, exactly as a user would, and a second plan above the quota is denied
 * and changes nothing.
 */
export async function runDemo(stack: LocalStack, log: (message: string) => void): Promise<void> {
  const clusters = ClusterRegistry.fromSources(stack.clusters);
  const api = new ApiClient({ apiUrl: stack.apiUrl });
  const runId = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();

  log('demo: creating namespace ml and Deployment inference (2 replicas, 1 GPU each)');
  await applyObject(clusters, 'local', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
  await applyWorkload(clusters, 'local', inferenceDeployment('inference', 2));
  await waitForRollout(clusters, target, { timeoutMs: 120_000 });
  log('demo: storing policy ml-max-replicas (quota: at most 8 replicas per workload in ml)');
  await putPolicy(stack.database.db, parsePolicyDocument(demoPolicy), 'demo');

  const scaleTo = async (replicas: number): Promise<PlanView> => {
    const id = `demo-${runId}-scale-to-${replicas}`;
    log(`demo: POST /v1/plans ${id} (scale inference to ${replicas})`);
    await api.request('POST', '/v1/plans', {
      id,
      verb: 'scale',
      target,
      params: { replicas },
      requestedBy: 'demo',
      reason: `demo: scale to ${replicas}`,
    });
    for (;;) {
      const { body } = await api.request<PlanView>('GET', `/v1/plans/${id}`);
      if (['Succeeded', 'Denied', 'Failed', 'RolledBack', 'Expired', 'Aborted'].includes(body.phase))
        return body;
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  const applied = await scaleTo(4);
  console.log(`\n${formatPlan(applied)}`);
  const afterScale = await getWorkload(clusters, target);
  console.log(
    `  cluster: deployment ml/inference spec.replicas=${afterScale.spec.replicas} readyReplicas=${Number(afterScale.status?.readyReplicas ?? 0)}`,
  );

  const denied = await scaleTo(12);
  console.log(`\n${formatPlan(denied)}`);
  const afterDenied = await getWorkload(clusters, target);
  console.log(`  cluster: deployment ml/inference spec.replicas=${afterDenied.spec.replicas} (unchanged)`);

  const kubeconfig = stack.clusters[0]?.kubeconfigPath ?? '<kubeconfig>';
  const tools = toolsDir();
  console.log(`
Look for yourself:
  ${tools}/kubectl-${TOOL_VERSIONS.kubernetes}/bin/kubectl --kubeconfig ${kubeconfig} -n ml get deploy inference
  ${tools}/temporal-${TOOL_VERSIONS.temporal}/bin/temporal workflow list --address ${stack.temporalAddress} --query "SentinelWorkload='inference'"
  node bin/sentinel.mjs --api ${stack.apiUrl} plan get ${applied.planId}
  Temporal Web UI: ${stack.temporalUiUrl ?? '(external)'}
`);
}
