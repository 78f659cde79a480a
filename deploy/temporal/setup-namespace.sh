#!/bin/sh
# One-shot, idempotent: the namespace cutover runs in, and the search attributes its workflows set
# (workflows/search-attributes.ts), which `cutover list` and the Web UI's workflow list filter on.
set -eu
: "${TEMPORAL_ADDRESS:=temporal:7233}" "${TEMPORAL_NAMESPACE:=default}" "${NAMESPACE_RETENTION:=720h}"
t() { temporal "$@" --address "$TEMPORAL_ADDRESS"; }

attempts=0
until t operator cluster health >/dev/null 2>&1; do
  attempts=$((attempts + 1))
  [ "$attempts" -ge 60 ] && { echo "Temporal at $TEMPORAL_ADDRESS is not healthy" >&2; exit 1; }
  sleep 2
done

t operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1 ||
  t operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$NAMESPACE_RETENTION"

# A new namespace takes a few seconds to reach every frontend: retry, then let compose restart us.
search_attribute() {
  attempts=0
  until t operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" 2>/dev/null | grep -qw "$1" ||
    t operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$1" --type "$2"; do
    attempts=$((attempts + 1))
    [ "$attempts" -ge 15 ] && exit 1
    sleep 2
  done
}
search_attribute CutoverStage Keyword
search_attribute CutoverApp Keyword
search_attribute CutoverAccount Keyword
search_attribute CutoverTicket Keyword
search_attribute CutoverOutcome Keyword
echo "namespace $TEMPORAL_NAMESPACE and the cutover search attributes are ready"
