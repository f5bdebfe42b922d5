{{/* Object names: <release>-vaultbridge-operator, so one release can hold every component. */}}
{{- define "operator.fullname" -}}
{{- printf "%s-vaultbridge-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "operator.selectorLabels" -}}
app.kubernetes.io/name: vaultbridge-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "operator.labels" -}}
{{ include "operator.selectorLabels" . }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: vaultbridge
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Vault address: the component's own value wins over global.vault.address. */}}
{{- define "operator.vaultAddress" -}}
{{- .Values.vaultAddress | default ((.Values.global).vault).address | default "" -}}
{{- end -}}

{{/*
Vault addresses VaultConnections may name, comma-separated: operator.allowedVaultAddresses, else the
global Vault address; empty (any address) only with allowAnyVaultAddress.
*/}}
{{- define "operator.allowedVaultAddresses" -}}
{{- $allowed := .Values.allowedVaultAddresses | default list -}}
{{- if and (not $allowed) (not .Values.allowAnyVaultAddress) -}}
{{- $global := ((.Values.global | default dict).vault | default dict).address | default "" -}}
{{- if $global -}}{{- $allowed = list $global -}}{{- end -}}
{{- end -}}
{{- if not .Values.allowAnyVaultAddress -}}{{- join "," $allowed -}}{{- end -}}
{{- end -}}
