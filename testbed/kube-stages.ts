import { stringify } from 'yaml';

/**
 * kwok Stage resources that make simulated nodes and pods behave like real ones: a node
 * turns Ready as soon as it is registered and keeps its capacity; a pod bound to a
 * simulated node is Running and Ready at once; a pod being deleted goes away. Job pods keep
 * running (no completion stage), so a Job's parallelism stays observable.
 */

const nodeReady = `
{{ $now := Now }}
conditions:
- type: Ready
  status: "True"
  reason: KubeletReady
  message: kwok simulated kubelet is posting ready status
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ range $type := list "MemoryPressure" "DiskPressure" "PIDPressure" "NetworkUnavailable" }}
- type: {{ $type }}
  status: "False"
  reason: KubeletHasNo{{ $type }}
  message: simulated
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
addresses:
- type: InternalIP
  address: {{ NodeIP | Quote }}
- type: Hostname
  address: {{ NodeName | Quote }}
{{ with .status.capacity }}
capacity:
{{ YAML . 1 }}
{{ end }}
{{ with .status.allocatable }}
allocatable:
{{ YAML . 1 }}
{{ end }}
nodeInfo:
  architecture: amd64
  operatingSystem: linux
  kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
  kubeProxyVersion: {{ printf "kwok-%s" Version | Quote }}
  containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
  kernelVersion: simulated
  osImage: simulated
  machineID: ""
  bootID: ""
  systemUUID: ""
phase: Running
`;

const podRunning = `
{{ $now := Now }}
phase: Running
startTime: {{ $now | Quote }}
hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName false .metadata.uid .metadata.name .metadata.namespace | Quote }}
conditions:
{{ range $type := list "PodScheduled" "Initialized" "ContainersReady" "Ready" }}
- type: {{ $type }}
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: {{ printf "simulated://%s" .image | Quote }}
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
`;

/** Pod annotation that delays a simulated pod's start (a Go duration, e.g. `8s`). */
export const SIMULATED_READY_DELAY_ANNOTATION = 'sentinel.dev/simulated-ready-delay';

const stages = [
  {
    name: 'sentinel-node-ready',
    kind: 'Node',
    selector: [
      {
        key: '.status.conditions.[] | select( .type == "Ready" ) | .status',
        operator: 'NotIn',
        values: ['True'],
      },
    ],
    next: { statusTemplate: nodeReady },
  },
  {
    // Refreshes the node's heartbeat now and then; the node Lease carries liveness in between.
    name: 'sentinel-node-heartbeat',
    kind: 'Node',
    selector: [
      {
        key: '.status.conditions.[] | select( .type == "Ready" ) | .status',
        operator: 'In',
        values: ['True'],
      },
    ],
    delay: { durationMilliseconds: 120_000, jitterDurationMilliseconds: 150_000 },
    next: { statusTemplate: nodeReady },
  },
  {
    name: 'sentinel-pod-running',
    kind: 'Pod',
    selector: [
      { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
      { key: '.status.phase', operator: 'NotIn', values: ['Running', 'Succeeded', 'Failed'] },
    ],
    // Tests that need a step to stay in flight (worker crash, abort mid-rollout) slow pod
    // start-up with this pod annotation, a Go duration such as "8s".
    delay: {
      durationMilliseconds: 0,
      durationFrom: { expressionFrom: `.metadata.annotations["${SIMULATED_READY_DELAY_ANNOTATION}"]` },
    },
    next: { statusTemplate: podRunning },
  },
  {
    // A kubelet reports its pods Ready again once its node is back; the node lifecycle
    // controller marks them NotReady while the node is unreachable.
    name: 'sentinel-pod-ready-again',
    kind: 'Pod',
    selector: [
      { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
      { key: '.status.phase', operator: 'In', values: ['Running'] },
      {
        key: '.status.conditions.[] | select( .type == "Ready" ) | .status',
        operator: 'NotIn',
        values: ['True'],
      },
    ],
    next: { statusTemplate: podRunning },
  },
  {
    name: 'sentinel-pod-delete',
    kind: 'Pod',
    selector: [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }],
    next: { delete: true },
  },
];

/** The kwok configuration file: the stages above as `kwok.x-k8s.io/v1alpha1` Stage documents. */
export function kwokStagesYaml(): string {
  return stages
    .map((s) =>
      stringify({
        apiVersion: 'kwok.x-k8s.io/v1alpha1',
        kind: 'Stage',
        metadata: { name: s.name },
        spec: {
          resourceRef: { apiGroup: 'v1', kind: s.kind },
          selector: { matchExpressions: s.selector },
          ...(s.delay && { delay: s.delay }),
          next: s.next,
        },
      }),
    )
    .join('---\n');
}
