#!/usr/bin/env bash
# make drain RELAY=relay-1 / make ready RELAY=relay-1 (or DB=influxdb-a): takes one server of `make up` out of
# HAProxy's pools, or puts it back, on HAProxy's runtime API (run/haproxy.sock), for maintenance without a failed
# request: a drained server gets no new requests while its open ones finish; health checks go on, so `ready`
# puts it back as soon as it passes them.
#   drain NAME   a relay: out of `writes`, `writes_tcp`, `writes_opentsdb`, `writes_graphite`, `writes_api_put`; a database: out of `reads_fresh` and `reads_any` (the
#                relays keep writing to it directly: only reads move). Waits until its sessions have ended.
#   ready NAME   back in the same pools.
# The state is HAProxy's runtime state: a restart of HAProxy (make down/up) forgets it.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACTION="${1:-}"
NAME="${2:-}"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-30}"
fail() {
  log "$ACTION: $*"
  exit 1
}
case "$ACTION" in drain | ready) ;; *) fail "usage: drain.sh drain|ready NAME" ;; esac
sock="$RUN/haproxy.sock"
[ -S "$sock" ] && pid_ours "$(pid_of haproxy)" || fail "HAProxy of 'make up' is not running (no $SHOW_RUN/haproxy.sock)"
stat="$(haproxy_cmd "$sock" "show stat")" || fail "cannot read HAProxy's stats on $SHOW_RUN/haproxy.sock"
known() { awk -F, -v be="$1" '$1 == be && $2 != "BACKEND" && $2 != "FRONTEND" { print $2 }' <<<"$stat" | paste -sd' ' -; }
relays="$(known writes)"
databases="$(known reads_any)"
[ -n "$NAME" ] || fail "which server? make $ACTION RELAY=<one of: $relays> or DB=<one of: $databases>"

if [[ " $relays " == *" $NAME "* ]]; then
  pools=(writes writes_tcp writes_opentsdb writes_graphite writes_api_put)
elif [[ " $databases " == *" $NAME "* ]]; then
  pools=(reads_fresh reads_any)
else
  fail "HAProxy has no relay or database named '$NAME' (relays: $relays; databases: $databases)"
fi
state="$ACTION"
for pool in "${pools[@]}"; do
  # A pool the server is not in (writes_tcp without TCP listeners, reads_fresh without freshness, ...) is skipped.
  [[ " $(known "$pool") " == *" $NAME "* ]] || continue
  haproxy_set_state "$sock" "$pool" "$NAME" "$state" || fail "could not set $pool/$NAME to $state"
done

if [ "$ACTION" = drain ]; then
  log "drain: $NAME gets no new requests from HAProxy (${pools[*]}); waiting for its open sessions to end"
  for ((i = 0; i < DRAIN_TIMEOUT * 10; i++)); do
    busy=0
    for pool in "${pools[@]}"; do
      scur="$(haproxy_server "$sock" "$pool" "$NAME" scur)"
      [ -z "$scur" ] || [ "$scur" = 0 ] || busy=1
    done
    [ "$busy" -eq 0 ] && { log "drain: $NAME is drained (no open sessions); 'make ready' puts it back"; exit 0; }
    sleep 0.1
  done
  fail "$NAME still has open sessions after ${DRAIN_TIMEOUT}s (it is drained: it gets no new ones)"
fi
log "ready: $NAME is back in ${pools[*]} (in use once its health check passes)"
