{{/* Names: the release-qualified name of a service's objects, at most 63 characters. */}}
{{- define "cohort-lib.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cohort-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cohort-lib.labels" -}}
{{ include "cohort-lib.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: service
app.kubernetes.io/part-of: cohort
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "cohort-lib.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The service's settings prefix: COHORT_<NAME>_ (e.g. COHORT_QA_). */}}
{{- define "cohort-lib.envPrefix" -}}
{{- printf "COHORT_%s_" (upper .Chart.Name) -}}
{{- end -}}

{{- define "cohort-lib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "cohort-lib.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Environment shared by the server and the migration job: config, then secret references. */}}
{{- define "cohort-lib.env" -}}
- name: COHORT_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.existingSecret is required (a Secret with the database URL)" .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.databaseUrlKey }}
{{- range $env, $key := .Values.secrets.extraKeys }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.secrets.existingSecret }}
      key: {{ $key }}
{{- end }}
{{- end -}}

{{/* How the server reaches Kafka (cohort_runtime.kafka.KafkaSecurity): protocol, SASL credentials
from the service's Secret, the brokers' CA and a client certificate from mounted Secrets. */}}
{{- define "cohort-lib.kafkaEnv" -}}
{{- $k := .Values.kafka | default dict }}
{{- if and (ne .Values.config.usesKafka false) $k }}
- name: COHORT_KAFKA_SECURITY_PROTOCOL
  value: {{ $k.securityProtocol | quote }}
{{- if hasPrefix "SASL_" $k.securityProtocol }}
- name: COHORT_KAFKA_SASL_MECHANISM
  value: {{ $k.saslMechanism | quote }}
- name: COHORT_KAFKA_SASL_USERNAME
  value: {{ required (printf "kafka.saslUsername is required with kafka.securityProtocol %s" $k.securityProtocol) $k.saslUsername | quote }}
- name: COHORT_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ $k.saslPasswordKey }}
{{- end }}
{{- if $k.caSecretName }}
- name: COHORT_KAFKA_CA_FILE
  value: /etc/cohort/kafka-ca/ca.crt
{{- end }}
{{- if $k.clientCertSecretName }}
- name: COHORT_KAFKA_CERT_FILE
  value: /etc/cohort/kafka-client/user.crt
- name: COHORT_KAFKA_KEY_FILE
  value: /etc/cohort/kafka-client/user.key
{{- end }}
{{- end }}
{{- end -}}

{{- define "cohort-lib.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- with (.Values.kafka | default dict).caSecretName }}
- name: kafka-ca
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- with (.Values.kafka | default dict).clientCertSecretName }}
- name: kafka-client
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- if (.Values.tls | default dict).enabled }}
- name: tls
  secret:
    secretName: {{ required "tls.secretName is required when tls.enabled" .Values.tls.secretName }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "cohort-lib.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if (.Values.kafka | default dict).caSecretName }}
- name: kafka-ca
  mountPath: /etc/cohort/kafka-ca
  readOnly: true
{{- end }}
{{- if (.Values.kafka | default dict).clientCertSecretName }}
- name: kafka-client
  mountPath: /etc/cohort/kafka-client
  readOnly: true
{{- end }}
{{- if (.Values.tls | default dict).enabled }}
- name: tls
  mountPath: /etc/cohort/tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* TLS settings from the mounted Secret (server, the CA trusted for outgoing calls, mutual TLS). */}}
{{- define "cohort-lib.tlsEnv" -}}
{{- if (.Values.tls | default dict).enabled }}
- name: COHORT_TLS_CERT_FILE
  value: /etc/cohort/tls/tls.crt
- name: COHORT_TLS_KEY_FILE
  value: /etc/cohort/tls/tls.key
- name: COHORT_TLS_CA_FILE
  value: /etc/cohort/tls/ca.crt
- name: COHORT_TLS_SERVER_NAME
  value: {{ .Values.tls.serverName | default (include "cohort-lib.fullname" .) | quote }}
{{- if .Values.tls.mutual }}
- name: COHORT_TLS_CLIENT_CA_FILE
  value: /etc/cohort/tls/ca.crt
{{- end }}
{{- end }}
{{- end -}}
