{{/* Object names: <release>-vaultbridge-injector, so one release can hold every component. */}}
{{- define "injector.fullname" -}}
{{- printf "%s-vaultbridge-injector" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "injector.selectorLabels" -}}
app.kubernetes.io/name: vaultbridge-injector
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "injector.labels" -}}
{{ include "injector.selectorLabels" . }}
app.kubernetes.io/component: injector
app.kubernetes.io/part-of: vaultbridge
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "injector.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The agent image injected into pods: vaultbridge/agent at the injector's tag (they are released together). */}}
{{- define "injector.agentImage" -}}
{{- printf "vaultbridge/agent:%s" (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The image of pods with agent-kind vault (the webhook's default kind or a pod's annotation):
vaultAgentImage; with agentKind vault, agentImage (the pods' image); else upstream's. */}}
{{- define "injector.vaultAgentImage" -}}
{{- if .Values.vaultAgentImage -}}
{{- .Values.vaultAgentImage -}}
{{- else if and (eq .Values.agentKind "vault") .Values.agentImage -}}
{{- .Values.agentImage -}}
{{- else -}}
hashicorp/vault:1.13.3
{{- end -}}
{{- end -}}

{{/* Vault address: the component's own value wins over global.vault.address. */}}
{{- define "injector.vaultAddress" -}}
{{- .Values.vaultAddress | default ((.Values.global).vault).address | default "" -}}
{{- end -}}
