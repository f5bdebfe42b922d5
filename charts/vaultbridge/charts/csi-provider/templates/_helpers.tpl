{{/* Object names: <release>-vaultbridge-csi-provider, so one release can hold every component. */}}
{{- define "csiProvider.fullname" -}}
{{- printf "%s-vaultbridge-csi-provider" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "csiProvider.selectorLabels" -}}
app.kubernetes.io/name: vaultbridge-csi-provider
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "csiProvider.labels" -}}
{{ include "csiProvider.selectorLabels" . }}
app.kubernetes.io/component: csi-provider
app.kubernetes.io/part-of: vaultbridge
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "csiProvider.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Vault address: the component's own value wins over global.vault.address. */}}
{{- define "csiProvider.vaultAddress" -}}
{{- .Values.vaultAddress | default ((.Values.global).vault).address | default "" -}}
{{- end -}}
