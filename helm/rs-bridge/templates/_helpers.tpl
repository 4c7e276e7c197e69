{{/* Chart name, truncated to the 63 characters Kubernetes allows in names. */}}
{{- define "rs-bridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified app name: the release name, or release-chart when they differ. */}}
{{- define "rs-bridge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "rs-bridge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "rs-bridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one role: call with (dict "ctx" $ "role" "api"). */}}
{{- define "rs-bridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rs-bridge.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{/* The image; global.imageRegistry, when set, wins over image.registry (Bitnami's convention). */}}
{{- define "rs-bridge.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- $registry := default .Values.image.registry .Values.global.imageRegistry -}}
{{- if .Values.image.digest -}}
{{- printf "%s/%s@%s" $registry .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s/%s:%s" $registry .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* image.pullSecrets and global.imagePullSecrets, each name once. */}}
{{- define "rs-bridge.imagePullSecrets" -}}
{{- $names := concat .Values.global.imagePullSecrets .Values.image.pullSecrets | uniq -}}
{{- if $names }}
imagePullSecrets:
{{- range $names }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
Spread one role's pods over nodes: "soft" prefers other nodes (a one-node cluster still schedules),
"hard" requires them. Call with (dict "ctx" $ "role" "api" "preset" "soft").
*/}}
{{- define "rs-bridge.podAntiAffinity" -}}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "rs-bridge.selectorLabels" (dict "ctx" .ctx "role" .role) | fromYaml)) -}}
podAntiAffinity:
{{- if eq .preset "hard" }}
  requiredDuringSchedulingIgnoredDuringExecution:
    {{- list $term | toYaml | nindent 4 }}
{{- else }}
  preferredDuringSchedulingIgnoredDuringExecution:
    {{- list (dict "weight" 100 "podAffinityTerm" $term) | toYaml | nindent 4 }}
{{- end }}
{{- end -}}

{{- define "rs-bridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rs-bridge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the sensitive variables: the user's, or the chart's. */}}
{{- define "rs-bridge.secretName" -}}
{{- default (include "rs-bridge.fullname" .) .Values.existingSecret -}}
{{- end -}}
