#!/bin/sh
# One-shot (compose service temporal-setup): waits for the Temporal server, then registers the namespace and
# Medic's search attributes (the Web UI's incident columns). Idempotent. Runs in temporalio/admin-tools;
# the temporal CLI reads TEMPORAL_ADDRESS itself.
set -eu
: "${TEMPORAL_ADDRESS:?}"
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${TEMPORAL_NAMESPACE_RETENTION:-30d}
ATTRIBUTES="IncidentStatus IncidentTarget IncidentSeverity DiagnosisSource"

retry() {
  what=$1
  shift
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 90 ]; then
      echo "gave up after 90 s: $what" >&2
      "$@" # once more, with its error shown
      exit 1
    fi
    sleep 1
  done
}

echo "waiting for the Temporal server at $TEMPORAL_ADDRESS ..."
retry "the server at $TEMPORAL_ADDRESS is not serving" temporal operator cluster health
if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "created namespace $NAMESPACE (retention $RETENTION)"
fi
for name in $ATTRIBUTES; do
  # A new namespace takes a few seconds to reach every service: retry until the attribute is listed.
  retry "search attribute $name in $NAMESPACE" sh -c "
    temporal operator search-attribute list --namespace '$NAMESPACE' | grep -qw '$name' ||
    temporal operator search-attribute create --namespace '$NAMESPACE' --name '$name' --type Keyword"
done
retry "search attributes visible in $NAMESPACE" sh -c "
  temporal operator search-attribute list --namespace '$NAMESPACE' | grep -qw DiagnosisSource"
echo "namespace $NAMESPACE and Medic's search attributes ($ATTRIBUTES) are ready"
