{{/*
The chart name, or nameOverride.
*/}}
{{- define "a2a-server.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A fully qualified app name, at most 63 characters (DNS names). A release name that
already contains the chart name is used as is.
*/}}
{{- define "a2a-server.fullname" -}}
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

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "a2a-server.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "a2a-server.labels" -}}
helm.sh/chart: {{ include "a2a-server.chart" . }}
{{ include "a2a-server.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels.
*/}}
{{- define "a2a-server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "a2a-server.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The name of the service account to use.
*/}}
{{- define "a2a-server.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "a2a-server.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The container image: repository@digest, or repository:tag (tag defaults to appVersion).
*/}}
{{- define "a2a-server.image" -}}
{{- $repository := required "image.repository is required" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
The store type, checked: sqlite, postgres or memory.
*/}}
{{- define "a2a-server.storeType" -}}
{{- $type := .Values.store.type | default "sqlite" | toString | lower }}
{{- if not (has $type (list "sqlite" "postgres" "memory")) }}
{{- fail (printf "store.type must be sqlite, postgres or memory, not %q" $type) }}
{{- end }}
{{- $type }}
{{- end }}

{{/*
The writable data directory: ./data under the image's WORKDIR (/var/lib/a2a), where the
server keeps the SQLite database and, by default, the generated push signing key.
*/}}
{{- define "a2a-server.dataDir" -}}
/var/lib/a2a/data
{{- end }}

{{/*
The store URL for store.type=sqlite: an absolute path in the data volume.
*/}}
{{- define "a2a-server.sqliteUrl" -}}
{{- printf "sqlite://%s/%s" (include "a2a-server.dataDir" .) (.Values.store.sqlite.filename | default "a2a.db") }}
{{- end }}

{{/*
The PersistentVolumeClaim of the data volume.
*/}}
{{- define "a2a-server.dataClaimName" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "a2a-server.fullname" .)) }}
{{- end }}

{{/*
Where the push signing key Secret is mounted, and the file A2A_PUSH_SIGNING_KEY names.
*/}}
{{- define "a2a-server.signingKeyDir" -}}
/etc/a2a/push
{{- end }}

{{- define "a2a-server.signingKeyPath" -}}
{{- printf "%s/signing-key.pem" (include "a2a-server.signingKeyDir" .) }}
{{- end }}

{{/*
The Secret holding the push signing key, or "" when none is used.
*/}}
{{- define "a2a-server.signingKeySecret" -}}
{{- if .Values.push.enabled }}
{{- .Values.push.signingKey.existingSecret | default "" }}
{{- end }}
{{- end }}

{{/*
Where configToml is mounted (A2A_CONFIG).
*/}}
{{- define "a2a-server.configDir" -}}
/etc/a2a/config
{{- end }}

{{/*
The base URL advertised in the agent card (A2A_PUBLIC_URL): publicUrl, else the first
ingress host (https when a TLS entry lists it), else the Service's in-cluster URL.
*/}}
{{- define "a2a-server.publicUrl" -}}
{{- $url := "" }}
{{- if .Values.publicUrl }}
{{- $url = .Values.publicUrl }}
{{- else if .Values.ingress.enabled }}
{{- range .Values.ingress.hosts }}
{{- if and (not $url) .host }}
{{- $host := .host }}
{{- $scheme := "http" }}
{{- range $.Values.ingress.tls }}
{{- if has $host (.hosts | default (list)) }}
{{- $scheme = "https" }}
{{- end }}
{{- end }}
{{- $url = printf "%s://%s" $scheme $host }}
{{- end }}
{{- end }}
{{- end }}
{{- if not $url }}
{{- $url = printf "http://%s.%s.svc.%s" (include "a2a-server.fullname" .) .Release.Namespace .Values.clusterDomain }}
{{- $port := int .Values.service.port }}
{{- if ne $port 80 }}
{{- $url = printf "%s:%d" $url $port }}
{{- end }}
{{- end }}
{{- $url | trimSuffix "/" }}
{{- end }}

{{/*
The server's configuration keys (src/config.rs FIELDS) that `config` may set, one per
line. With a2a-server.managedKeys they are exactly FIELDS: tests/helm_chart.rs checks it.
*/}}
{{- define "a2a-server.configKeys" -}}
redis_url
grpc_listen
db_max_connections
db_acquire_timeout_secs
db_statement_timeout_secs
run_lease_secs
retention_secs
idempotency_ttl_secs
streaming
max_body_bytes
max_concurrent_requests
max_json_depth
max_parts
max_string_bytes
max_metadata_bytes
header_read_timeout_secs
cancel_grace_secs
push_allow_private_networks
push_propagate_trace
push_max_attempts
push_max_age_secs
push_retry_base_ms
push_retry_max_secs
push_connect_timeout_secs
push_timeout_secs
push_concurrency
push_keys_dir
push_token_lifetime_secs
push_key_rotation_secs
{{- end }}

{{/*
The configuration keys the chart sets from its own values, one per line.
*/}}
{{- define "a2a-server.managedKeys" -}}
listen
admin_listen
shutdown_delay_secs
shutdown_grace_secs
agent
store
public_url
push_notifications
push_signing_key
card
log_format
{{- end }}

{{/*
The configuration tables that only configToml sets (their files go in extraVolumes).
*/}}
{{- define "a2a-server.tomlKeys" -}}
auth
tls
rate_limit
cors
{{- end }}

{{/*
Agent card fields (src/config.rs CardConfig) that `card` may set: single strings, then
lists of strings. `skills` (a list of tables) and `extended` (a table) go in configToml.
*/}}
{{- define "a2a-server.cardKeys" -}}
name
description
version
provider_organization
provider_url
documentation_url
icon_url
{{- end }}

{{- define "a2a-server.cardListKeys" -}}
input_modes
output_modes
{{- end }}

{{- define "a2a-server.cardBoolKeys" -}}
v03_fields
{{- end }}

{{/*
A string in double quotes, with backslash escapes: figment's string syntax, which the
server reads as the text inside (and older servers needed: unquoted, they read a value
such as 1.0 as a number). Inside lists the quotes are required.
*/}}
{{- define "a2a-server.figmentString" -}}
{{- printf "\"%s\"" (toString . | replace "\\" "\\\\" | replace "\"" "\\\"" | replace "\n" "\\n" | replace "\r" "\\r" | replace "\t" "\\t") }}
{{- end }}

{{/*
A list of strings in figment's array syntax: ["a", "b"].
*/}}
{{- define "a2a-server.figmentList" -}}
{{- $items := list }}
{{- range . }}
{{- $items = append $items (include "a2a-server.figmentString" .) }}
{{- end }}
{{- printf "[%s]" (join ", " $items) }}
{{- end }}

{{/*
A scalar setting as an environment variable value. Helm reads numbers in values files as
floats, which would print as 1.048576e+06: whole numbers are printed as integers.
*/}}
{{- define "a2a-server.envValue" -}}
{{- if kindIs "float64" . }}
{{- if ne (float64 (int64 .)) . }}
{{- fail (printf "%v is not a whole number: a2a-server settings take whole numbers" .) }}
{{- end }}
{{- int64 . }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/*
Environment variables A2A_CARD__<FIELD> for the non-empty `card` fields.
*/}}
{{- define "a2a-server.cardEnv" -}}
{{- $scalars := regexSplit "\\s+" (include "a2a-server.cardKeys" . | trim) -1 }}
{{- $lists := regexSplit "\\s+" (include "a2a-server.cardListKeys" . | trim) -1 }}
{{- $bools := regexSplit "\\s+" (include "a2a-server.cardBoolKeys" . | trim) -1 }}
{{- range $key, $value := .Values.card }}
{{- if has $key $scalars }}
{{- if or (kindIs "map" $value) (kindIs "slice" $value) }}
{{- fail (printf "card.%s must be a string" $key) }}
{{- else if not (or (kindIs "invalid" $value) (eq (toString $value) "")) }}
- name: {{ printf "A2A_CARD__%s" (upper $key) }}
  value: {{ include "a2a-server.figmentString" $value | quote }}
{{- end }}
{{- else if has $key $lists }}
{{- if not (or (kindIs "invalid" $value) (kindIs "slice" $value)) }}
{{- fail (printf "card.%s must be a list of strings" $key) }}
{{- else if $value }}
- name: {{ printf "A2A_CARD__%s" (upper $key) }}
  value: {{ include "a2a-server.figmentList" $value | quote }}
{{- end }}
{{- else if has $key $bools }}
{{- if not (or (kindIs "invalid" $value) (kindIs "bool" $value)) }}
{{- fail (printf "card.%s must be true or false" $key) }}
{{- else if not (kindIs "invalid" $value) }}
- name: {{ printf "A2A_CARD__%s" (upper $key) }}
  value: {{ $value | quote }}
{{- end }}
{{- else }}
{{- fail (printf "card.%s is not supported: card takes %s, %s (lists) and %s (true/false); put skills, extended and anything else in configToml's [card] table" $key (join ", " $scalars) (join ", " $lists) (join ", " $bools)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment variables A2A_<KEY> for the `config` settings.
*/}}
{{- define "a2a-server.configEnv" -}}
{{- $known := regexSplit "\\s+" (include "a2a-server.configKeys" . | trim) -1 }}
{{- $managed := regexSplit "\\s+" (include "a2a-server.managedKeys" . | trim) -1 }}
{{- $toml := regexSplit "\\s+" (include "a2a-server.tomlKeys" . | trim) -1 }}
{{- range $key, $value := .Values.config }}
{{- if has $key $toml }}
{{- fail (printf "config.%s is a table of the TOML file: set it in configToml (and mount the files it names with extraVolumes)" $key) }}
{{- else if has $key $managed }}
{{- fail (printf "config.%s is set by the chart: use containerPort (listen), adminPort (admin_listen), shutdown.delaySeconds / shutdown.graceSeconds (shutdown_delay_secs / shutdown_grace_secs), agent, store.* (store), publicUrl (public_url), push.enabled (push_notifications), push.signingKey (push_signing_key), card / configToml (card) or logFormat (log_format) instead" $key) }}
{{- else if not (has $key $known) }}
{{- fail (printf "config.%s is not an a2a-server setting; the settings are: %s" $key (join ", " $known)) }}
{{- else if kindIs "invalid" $value }}
{{- /* null: keep the server's default */}}
{{- else if or (kindIs "map" $value) (kindIs "slice" $value) }}
{{- fail (printf "config.%s must be a single value: a number, true/false or a string" $key) }}
{{- else }}
- name: {{ printf "A2A_%s" (upper $key) }}
  value: {{ include "a2a-server.envValue" $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment variables OTEL_* for the OpenTelemetry SDK, when otel.endpoint is set. The
pod name comes from the downward API (K8S_POD_NAME, referenced as $(K8S_POD_NAME)).
*/}}
{{- define "a2a-server.otelEnv" -}}
{{- with .Values.otel }}
{{- if .endpoint }}
{{- $attributes := list (printf "k8s.namespace.name=%s" $.Release.Namespace) "k8s.pod.name=$(K8S_POD_NAME)" }}
{{- range $key, $value := .resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%s" $key (toString $value)) }}
{{- end }}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .endpoint | quote }}
{{- with .protocol }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ . | quote }}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ .serviceName | default (include "a2a-server.fullname" $) | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- with .sampler }}
- name: OTEL_TRACES_SAMPLER
  value: {{ . | quote }}
{{- end }}
{{- if not (kindIs "invalid" .samplerArg) }}
{{- if ne (toString .samplerArg) "" }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ toString .samplerArg | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A probe from values (dict "probe" P "root" $): an httpGet probe goes to the `admin` port
when adminPort is set, as the health routes then live there only.
*/}}
{{- define "a2a-server.probe" -}}
{{- $probe := deepCopy .probe }}
{{- if and (gt (int .root.Values.adminPort) 0) (hasKey $probe "httpGet") }}
{{- $_ := set $probe.httpGet "port" "admin" }}
{{- end }}
{{- toYaml $probe }}
{{- end }}

{{/*
Refuses combinations that cannot work.
*/}}
{{- define "a2a-server.validate" -}}
{{- $store := include "a2a-server.storeType" . }}
{{- $shutdown := add (int .Values.shutdown.delaySeconds) (int .Values.shutdown.graceSeconds) 5 }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (int $shutdown) }}
{{- fail (printf "terminationGracePeriodSeconds is %d, but the server's shutdown takes up to shutdown.delaySeconds + shutdown.graceSeconds + 5 s = %d s: Kubernetes would kill it mid-drain, before it releases its run leases" (int .Values.terminationGracePeriodSeconds) (int $shutdown)) }}
{{- end }}
{{- $replicas := int .Values.replicaCount }}
{{- $count := "replicaCount" }}
{{- with .Values.autoscaling }}
{{- if .enabled }}
{{- $replicas = int .maxReplicas }}
{{- $count = "autoscaling.maxReplicas" }}
{{- if or (lt (int .minReplicas) 1) (lt (int .maxReplicas) (int .minReplicas)) }}
{{- fail (printf "autoscaling needs 1 <= minReplicas <= maxReplicas, not %d and %d" (int .minReplicas) (int .maxReplicas)) }}
{{- end }}
{{- if not (or .targetCPUUtilizationPercentage .targetMemoryUtilizationPercentage) }}
{{- fail "autoscaling needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" }}
{{- end }}
{{- if and .targetCPUUtilizationPercentage (not (dig "requests" "cpu" "" ($.Values.resources | default dict))) }}
{{- fail "autoscaling.targetCPUUtilizationPercentage is a percentage of resources.requests.cpu, which is not set" }}
{{- end }}
{{- if and .targetMemoryUtilizationPercentage (not (dig "requests" "memory" "" ($.Values.resources | default dict))) }}
{{- fail "autoscaling.targetMemoryUtilizationPercentage is a percentage of resources.requests.memory, which is not set" }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (gt $replicas 1) (eq $store "sqlite") }}
{{- fail (printf "%s is %d, but the SQLite store (store.type=sqlite) is one file on one pod's volume and cannot be shared between pods: set it to 1, or use store.type=postgres to run several replicas" $count $replicas) }}
{{- end }}
{{- if and (gt $replicas 1) (eq $store "memory") }}
{{- fail (printf "%s is %d, but the memory store (store.type=memory) keeps tasks inside one process: set it to 1, or use store.type=postgres to run several replicas" $count $replicas) }}
{{- end }}
{{- if and (gt $replicas 1) .Values.push.enabled }}
{{- if not .Values.push.signingKey.existingSecret }}
{{- fail (printf "%s is %d with push notifications on: the replicas must sign with one key, or webhooks could not verify their JWTs against /.well-known/jwks.json. Set push.signingKey.existingSecret to a Secret holding a PEM private key (or push.enabled=false)" $count $replicas) }}
{{- end }}
{{- if gt (int64 (dig "push_key_rotation_secs" 0 (.Values.config | default dict))) 0 }}
{{- fail "config.push_key_rotation_secs rotates the signing key in each replica on its own, so replicas would publish different keys: with replicaCount > 1, rotate by updating the push.signingKey Secret and restarting instead" }}
{{- end }}
{{- end }}
{{- if not (has (toString .Values.logFormat) (list "" "text" "json")) }}
{{- fail (printf "logFormat must be json, text or empty, not %q" (toString .Values.logFormat)) }}
{{- end }}
{{- if not (has (toString .Values.otel.protocol) (list "" "http/protobuf" "grpc")) }}
{{- fail (printf "otel.protocol must be http/protobuf, grpc or empty, not %q" (toString .Values.otel.protocol)) }}
{{- end }}
{{- range $key, $value := .Values.otel.resourceAttributes }}
{{- if or (contains "," (toString $value)) (contains "=" (toString $value)) (contains "," $key) (contains "=" $key) }}
{{- fail (printf "otel.resourceAttributes.%s: keys and values must not contain `,` or `=`" $key) }}
{{- end }}
{{- end }}
{{- if and .Values.push.enabled .Values.push.signingKey.existingSecret (not .Values.push.signingKey.key) }}
{{- fail "push.signingKey.key must name the Secret's key holding the PEM" }}
{{- end }}
{{- end }}
