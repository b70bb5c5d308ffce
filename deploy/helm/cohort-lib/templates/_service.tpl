{{/*
Everything a Cohort service chart deploys. A service chart's only template is
  {{ include "cohort-lib.service" . }}
and its values follow the shared schema (values.schema.json, generated identically per chart).
*/}}
{{- define "cohort-lib.service" -}}
{{ include "cohort-lib.serviceAccount" . }}
---
{{ include "cohort-lib.configMap" . }}
---
{{ include "cohort-lib.deployment" . }}
---
{{ include "cohort-lib.k8sService" . }}
{{- if .Values.migrations.enabled }}
---
{{ include "cohort-lib.migrationJob" . }}
{{- end }}
{{- if .Values.podDisruptionBudget.enabled }}
---
{{ include "cohort-lib.pdb" . }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
---
{{ include "cohort-lib.hpa" . }}
{{- end }}
{{- if .Values.networkPolicy.enabled }}
---
{{ include "cohort-lib.networkPolicy" . }}
{{- end }}
{{- if (.Values.ingress | default dict).enabled }}
---
{{ include "cohort-lib.ingress" . }}
{{- end }}
{{- if .Values.serviceMonitor.enabled }}
---
{{ include "cohort-lib.serviceMonitor" . }}
{{- end }}
{{- if .Values.prometheusRule.enabled }}
---
{{ include "cohort-lib.prometheusRule" . }}
{{- end }}
{{- if .Values.dashboard.enabled }}
---
{{ include "cohort-lib.dashboard" . }}
{{- end }}
{{- end -}}

{{- define "cohort-lib.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{- define "cohort-lib.configMap" -}}
{{- $p := include "cohort-lib.envPrefix" . -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
data:
  {{- if ne .Values.config.usesKafka false }}
  COHORT_KAFKA_BOOTSTRAP: {{ required "config.kafkaBootstrap is required" .Values.config.kafkaBootstrap | quote }}
  COHORT_TOPIC_PREFIX: {{ .Values.config.topicPrefix | quote }}
  {{- end }}
  {{- with .Values.config.otlpEndpoint }}
  COHORT_OTLP_ENDPOINT: {{ . | quote }}
  {{- end }}
  COHORT_TOKEN_PUBLIC_KEY: {{ required "config.tokenPublicKey is required (PEM)" .Values.config.tokenPublicKey | quote }}
  {{- with .Values.config.labTokenPublicKey }}
  COHORT_LAB_TOKEN_PUBLIC_KEY: {{ . | quote }}
  {{- end }}
  {{ $p }}GRPC_HOST: "0.0.0.0"
  {{ $p }}METRICS_HOST: "0.0.0.0"
  {{- if ne .Values.config.usesKafka false }}
  {{ $p }}KAFKA_PARTITIONS: {{ .Values.config.kafkaPartitions | quote }}
  {{ $p }}KAFKA_REPLICATION: {{ .Values.config.kafkaReplication | quote }}
  {{- end }}
  {{- with .Values.service.httpPort }}
  {{ $p }}HTTP_HOST: "0.0.0.0"
  {{ $p }}HTTP_PORT: {{ . | quote }}
  {{- end }}
  {{ $p }}GRPC_PORT: {{ .Values.service.grpcPort | quote }}
  {{ $p }}METRICS_PORT: {{ .Values.service.metricsPort | quote }}
  {{ $p }}LOG_LEVEL: {{ .Values.config.logLevel | quote }}
  {{ $p }}DB_SCHEMA: {{ .Values.config.dbSchema | default .Chart.Name | quote }}
  {{- range $k, $v := .Values.config.extraEnv }}
  {{ $k }}: {{ $v | quote }}
  {{- end }}
{{- end -}}

{{- define "cohort-lib.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "cohort-lib.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- include "cohort-lib.labels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include "cohort-lib.configMap" . | sha256sum }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "cohort-lib.fullname" . }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "cohort-lib.podSecurityContext" . | nindent 8 }}
      # SIGTERM drains in-flight RPCs and consumer batches (see docs/ARCHITECTURE.md).
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
      {{- if .Values.topologySpread.enabled }}
      topologySpreadConstraints:
        - maxSkew: {{ .Values.topologySpread.maxSkew }}
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "cohort-lib.selectorLabels" . | nindent 14 }}
        - maxSkew: {{ .Values.topologySpread.maxSkew }}
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "cohort-lib.selectorLabels" . | nindent 14 }}
      {{- end }}
      containers:
        - name: {{ .Chart.Name }}
          image: {{ include "cohort-lib.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          securityContext:
            {{- include "cohort-lib.containerSecurityContext" . | nindent 12 }}
          envFrom:
            - configMapRef:
                name: {{ include "cohort-lib.fullname" . }}
          env:
            {{- include "cohort-lib.env" . | nindent 12 }}
            {{- include "cohort-lib.tlsEnv" . | nindent 12 }}
            {{- include "cohort-lib.kafkaEnv" . | nindent 12 }}
          ports:
            - name: grpc
              containerPort: {{ .Values.service.grpcPort }}
              protocol: TCP
            - name: metrics
              containerPort: {{ .Values.service.metricsPort }}
              protocol: TCP
            {{- with .Values.service.httpPort }}
            - name: http
              containerPort: {{ . }}
              protocol: TCP
            {{- end }}
          {{- /* Kubernetes' gRPC probe cannot speak TLS: over TLS the service's own probe runs. */}}
          {{- $probe := dict "grpc" (dict "port" .Values.service.grpcPort) }}
          {{- if (.Values.tls | default dict).enabled }}
          {{- $probe = dict "exec" (dict "command" (list "python" "-m" "cohort_runtime.probe" (printf "127.0.0.1:%v" .Values.service.grpcPort))) }}
          {{- end }}
          startupProbe:
            {{- toYaml $probe | nindent 12 }}
            periodSeconds: 5
            failureThreshold: 60
          readinessProbe:
            {{- toYaml $probe | nindent 12 }}
            periodSeconds: 10
            timeoutSeconds: 5
          livenessProbe:
            {{- toYaml $probe | nindent 12 }}
            periodSeconds: 20
            timeoutSeconds: 5
            failureThreshold: 3
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            {{- include "cohort-lib.volumeMounts" . | nindent 12 }}
      volumes:
        {{- include "cohort-lib.volumes" . | nindent 8 }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{- define "cohort-lib.k8sService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "cohort-lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: grpc
      port: {{ .Values.service.grpcPort }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    - name: metrics
      port: {{ .Values.service.metricsPort }}
      targetPort: metrics
      protocol: TCP
    {{- with .Values.service.httpPort }}
    - name: http
      port: {{ . }}
      targetPort: http
      protocol: TCP
      appProtocol: http
    {{- end }}
{{- end -}}

{{/* Migrations run before the new pods (pre-install, pre-upgrade), with the same image and env. */}}
{{- define "cohort-lib.migrationJob" -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "cohort-lib.fullname" . }}-migrate
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
    app.kubernetes.io/component: migrations
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ .Values.migrations.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.migrations.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "cohort-lib.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: migrations
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      securityContext:
        {{- include "cohort-lib.podSecurityContext" . | nindent 8 }}
      containers:
        - name: migrate
          image: {{ include "cohort-lib.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["migrate"]
          securityContext:
            {{- include "cohort-lib.containerSecurityContext" . | nindent 12 }}
          env:
            # Hooks run before the release's ConfigMap exists: the settings are inline here.
            - name: {{ include "cohort-lib.envPrefix" . }}DB_SCHEMA
              value: {{ .Values.config.dbSchema | default .Chart.Name | quote }}
            {{- include "cohort-lib.env" . | nindent 12 }}
          resources:
            {{- toYaml .Values.migrations.resources | nindent 12 }}
          volumeMounts:
            {{- include "cohort-lib.volumeMounts" . | nindent 12 }}
      volumes:
        {{- include "cohort-lib.volumes" . | nindent 8 }}
{{- end -}}

{{- define "cohort-lib.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
spec:
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "cohort-lib.selectorLabels" . | nindent 6 }}
{{- end -}}

{{- define "cohort-lib.hpa" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "cohort-lib.fullname" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}

{{/* Ingress only from the listed callers (gRPC) and from Prometheus (metrics). */}}
{{- define "cohort-lib.networkPolicy" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "cohort-lib.selectorLabels" . | nindent 6 }}
  policyTypes: ["Ingress"]
  ingress:
    - ports:
        - port: grpc
          protocol: TCP
      {{- with .Values.networkPolicy.grpcFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    - ports:
        - port: metrics
          protocol: TCP
      from:
        - namespaceSelector:
            {{- toYaml .Values.networkPolicy.prometheus.namespaceSelector | nindent 12 }}
          podSelector:
            {{- toYaml .Values.networkPolicy.prometheus.podSelector | nindent 12 }}
    {{- if .Values.service.httpPort }}
    - ports:
        - port: http
          protocol: TCP
      {{- with .Values.networkPolicy.httpFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
{{- end -}}

{{/* The web port (or, with ingress.port grpc, the gRPC port: intake's lab API) behind an Ingress,
TLS terminated at the controller with the given certificate. */}}
{{- define "cohort-lib.ingress" -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
  {{- with .Values.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with .Values.ingress.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- if (.Values.ingress.tls | default dict).enabled }}
  tls:
    - hosts: [{{ required "ingress.host is required" .Values.ingress.host | quote }}]
      secretName: {{ required "ingress.tls.secretName is required" .Values.ingress.tls.secretName }}
  {{- end }}
  rules:
    - host: {{ required "ingress.host is required" .Values.ingress.host | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ include "cohort-lib.fullname" . }}
                port:
                  name: {{ .Values.ingress.port | default "http" }}
{{- end -}}

{{- define "cohort-lib.serviceMonitor" -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
    {{- with .Values.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "cohort-lib.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: metrics
      interval: {{ .Values.serviceMonitor.interval }}
      path: /metrics
      # Dashboards and alerts select by this label, whatever the release and Service are named.
      relabelings:
        - targetLabel: cohort_service
          replacement: {{ .Chart.Name }}
{{- end -}}

{{/* The platform's alerting rules that concern this service (deploy/observability, generated). */}}
{{- define "cohort-lib.prometheusRule" -}}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ include "cohort-lib.fullname" . }}
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
    {{- with .Values.prometheusRule.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- .Files.Get "files/rules.yaml" | nindent 2 }}
{{- end -}}

{{- define "cohort-lib.dashboard" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "cohort-lib.fullname" . }}-dashboard
  labels:
    {{- include "cohort-lib.labels" . | nindent 4 }}
    grafana_dashboard: "1"
data:
  cohort-{{ .Chart.Name }}.json: |-
    {{- .Files.Get "files/dashboard.json" | nindent 4 }}
{{- end -}}
