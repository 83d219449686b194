{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "sentinel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name of every object: <release>-sentinel, or the release name when it already says sentinel. */}}
{{- define "sentinel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sentinel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sentinel.labels" -}}
helm.sh/chart: {{ include "sentinel.chart" . }}
{{ include "sentinel.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sentinel
{{- end }}

{{- define "sentinel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sentinel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component (api, worker): call with (dict "root" $ "component" "api"). */}}
{{- define "sentinel.componentLabels" -}}
{{ include "sentinel.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "sentinel.componentSelectorLabels" -}}
{{ include "sentinel.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "sentinel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sentinel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Cluster-scoped objects carry the namespace too: one release name may exist in several namespaces. */}}
{{- define "sentinel.clusterRoleName" -}}
{{- printf "%s-%s" .Release.Namespace (include "sentinel.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sentinel.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Where the kubeconfig Secret and the in-cluster kubeconfig are mounted. */}}
{{- define "sentinel.clustersDir" -}}/etc/sentinel/clusters{{- end }}
{{- define "sentinel.inClusterDir" -}}/etc/sentinel/in-cluster{{- end }}

{{/* SENTINEL_CLUSTERS: name=/path/to/kubeconfig[#context],... */}}
{{- define "sentinel.clusterSpec" -}}
{{- $entries := list }}
{{- range .Values.clusters.list }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" (toString .name)) }}
{{- fail (printf "clusters.list: name %q is not an RFC 1123 label" (toString .name)) }}
{{- end }}
{{- if not .file }}
{{- fail (printf "clusters.list: cluster %q needs file (a key of clusters.kubeconfigSecret)" .name) }}
{{- end }}
{{- $entry := printf "%s=%s/%s" .name (include "sentinel.clustersDir" $) .file }}
{{- if .context }}
{{- $entry = printf "%s#%s" $entry .context }}
{{- end }}
{{- $entries = append $entries $entry }}
{{- end }}
{{- if .Values.clusters.inCluster.enabled }}
{{- $entries = append $entries (printf "%s=%s/kubeconfig" .Values.clusters.inCluster.name (include "sentinel.inClusterDir" .)) }}
{{- end }}
{{- join "," $entries }}
{{- end }}

{{/* Checks that values which only make sense together are given together. */}}
{{- define "sentinel.validate" -}}
{{- if and .Values.clusters.list (not .Values.clusters.kubeconfigSecret) }}
{{- fail "clusters.list names kubeconfig files: set clusters.kubeconfigSecret to the Secret that holds them" }}
{{- end }}
{{- if not .Values.database.existingSecret }}
{{- fail "database.existingSecret is required: the API and the worker share one PostgreSQL database (a Secret with a postgres:// URL)" }}
{{- end }}
{{- end }}

{{/*
Environment shared by the API and the worker, besides the ConfigMap (envFrom): the values
that come from Secrets. Every name is a key of ConfigSchema (config/index.ts).
*/}}
{{- define "sentinel.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.key }}
{{- if .Values.apiTokens.existingSecret }}
- name: SENTINEL_API_TOKENS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.apiTokens.existingSecret }}
      key: {{ .Values.apiTokens.key }}
{{- end }}
{{- end }}

{{/* Volumes of both pods: writable scratch space (the root filesystem is read-only) and the kubeconfigs. */}}
{{- define "sentinel.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- if .Values.clusters.list }}
- name: clusters
  secret:
    secretName: {{ .Values.clusters.kubeconfigSecret }}
    defaultMode: 0440
{{- end }}
{{- if .Values.clusters.inCluster.enabled }}
- name: in-cluster
  configMap:
    name: {{ include "sentinel.fullname" . }}-in-cluster
{{- end }}
{{- end }}

{{- define "sentinel.volumeMounts" -}}
- name: data
  mountPath: /var/lib/sentinel
- name: tmp
  mountPath: /tmp
{{- if .Values.clusters.list }}
- name: clusters
  mountPath: {{ include "sentinel.clustersDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.clusters.inCluster.enabled }}
- name: in-cluster
  mountPath: {{ include "sentinel.inClusterDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Pod-level settings shared by both Deployments. */}}
{{- define "sentinel.podSpecCommon" -}}
serviceAccountName: {{ include "sentinel.serviceAccountName" . }}
automountServiceAccountToken: {{ or .Values.serviceAccount.automount .Values.clusters.inCluster.enabled }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
