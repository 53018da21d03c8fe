{{/* Names and labels. Only functions deploy/helm/renderer implements are used (see deploy/README.md). */}}
{{- define "veil.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "veil.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "veil.gatewaySelector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "veil.workerSelector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: tee-worker
{{- end -}}

{{- define "veil.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "veil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ .Values.serviceAccount.name | default (include "veil.fullname" .) }}{{- else -}}{{ .Values.serviceAccount.name | default "default" }}{{- end -}}
{{- end -}}

{{/* The Secret a secrets.<name> entry resolves to: its existingSecret, or the one this chart creates. */}}
{{- define "veil.secretName" -}}
{{- $entry := index .root.Values.secrets .name -}}
{{- if $entry.existingSecret -}}{{ $entry.existingSecret }}{{- else if $entry.create -}}{{ printf "%s-%s" (include "veil.fullname" .root) (.name | kebabcase) }}{{- else -}}{{ required (printf "secrets.%s: set existingSecret, or create: true with its contents" .name) "" }}{{- end -}}
{{- end -}}

{{/*
The gateway's config file (VEIL_CONFIG), built as data: the keys are config-schema.ts leaves, checked by the tests.
Files are where the Deployment mounts them; secrets themselves never appear here.
*/}}
{{- define "veil.gatewayConfig" -}}
{{- $v := .Values -}}
{{- $tls := dict "tlsCertFile" "/etc/veil/tls/tls.crt" "tlsKeyFile" "/etc/veil/tls/tls.key" -}}
{{- $grpc := merge (dict "host" "0.0.0.0" "port" (int $v.gateway.grpcPort)) $tls -}}
{{- $http := merge (dict "enabled" true "host" "0.0.0.0" "port" (int $v.gateway.httpPort)) (deepCopy $tls) -}}
{{- /* host:port of every worker replica: stable StatefulSet DNS names behind the headless Service. */ -}}
{{- $nodes := list -}}
{{- $fullname := include "veil.fullname" . -}}
{{- if $v.worker.enabled -}}
{{- range $i := until (int $v.worker.replicas) -}}
{{- $nodes = append $nodes (printf "%s-worker-%d.%s-worker.%s.svc:%d" $fullname $i $fullname $.Release.Namespace (int $v.worker.port)) -}}
{{- end -}}
{{- end -}}
{{- $tee := dict "local" false "nodes" $nodes "allowSimulated" $v.tee.allowSimulated "maxMessageBytes" (int $v.worker.maxMessageBytes) -}}
{{- if eq $v.profile "production" -}}
{{- if not $v.tee.measurements -}}{{- fail "tee.measurements: list \"<platform>:<hex>\" entries (profile production admits no node without them)" -}}{{- end -}}
{{- $_ := set $tee "measurements" $v.tee.measurements -}}
{{- else if $v.tee.measurements -}}
{{- $_ := set $tee "measurements" $v.tee.measurements -}}
{{- end -}}
{{- if $v.tee.simulatedKeys -}}{{- $_ := set $tee "simulatedKeys" $v.tee.simulatedKeys -}}{{- end -}}
{{- if $v.worker.enabled -}}
{{- $_ := set $tee "nodeCaFile" "/etc/veil/node-tls/ca.crt" -}}
{{- $_ := set $tee "clientCertFile" "/etc/veil/node-tls/tls.crt" -}}
{{- $_ := set $tee "clientKeyFile" "/etc/veil/node-tls/tls.key" -}}
{{- end -}}
{{- $config := dict "profile" $v.profile "dataDir" "/data" "grpc" $grpc "http" $http "tee" $tee -}}
{{- $_ := set $config "auth" (dict "mode" "api-keys" "keysFile" "/etc/veil/api-keys/api-keys.json") -}}
{{- $_ := set $config "telemetry" (dict "prometheusPort" (int $v.gateway.metricsPort) "prometheusHost" "0.0.0.0") -}}
{{- $_ := set $config "log" (dict "format" $v.gateway.logFormat) -}}
{{- $chain := dict "enabled" $v.chain.enabled -}}
{{- if $v.chain.enabled -}}
{{- $_ := set $chain "rpcUrl" (required "chain.rpcUrl is required with chain.enabled" $v.chain.rpcUrl) -}}
{{- $_ := set $chain "registryAddress" (required "chain.registryAddress is required with chain.enabled" $v.chain.registryAddress) -}}
{{- $_ := set $chain "keyFile" "/etc/veil/operator-key/operator.key" -}}
{{- end -}}
{{- $_ := set $config "chain" $chain -}}
{{- toPrettyJson (mergeOverwrite $config (deepCopy $v.gateway.config)) -}}
{{- end -}}

{{/* Non-root, no privilege escalation, read-only root filesystem: state lives in /data and /tmp volumes only. */}}
{{- define "veil.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "veil.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}
