#!/usr/bin/env bash
# make restart-relay N=1: stops relay-N of `make up` and starts it again with the same config (run/relay-N.toml),
# spool (run/relay-N/spool), log and PID file (run/relay-N.pid), so `make down` still knows it.
#   SIGNAL=TERM (default): a rolling restart without a failed write (docs/deployment.md): the relay is first set to
#                          drain on HAProxy's runtime API (run/haproxy.sock), so it gets no new writes, and stopped
#                          once its open sessions ended; it drains its own queues for up to its shutdown-timeout
#                          (SIGKILL after DOWN_TIMEOUT seconds, as in make down); once it is back, HAProxy is told to
#                          use it again, and the script waits until a health check has passed.
#   SIGNAL=KILL:           a crash: no drain. What it acknowledged is in its spool and is sent once it is back.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${1:-${N:-}}"
SIGNAL="${SIGNAL:-TERM}"
DOWN_TIMEOUT="${DOWN_TIMEOUT:-15}"
fail() {
  log "restart-relay: $*"
  exit 1
}
case "$N" in 1 | 2) ;; *) fail "which relay? make restart-relay N=1 (or N=2)" ;; esac
case "$SIGNAL" in TERM | KILL) ;; *) fail "SIGNAL must be TERM or KILL, not $SIGNAL" ;; esac
name="relay-$N"
conf="$RUN/$name.toml"
[ -f "$conf" ] || fail "$SHOW_RUN/$name.toml is missing: start the stack with 'make up' first"
main="$(cat "$RUN/relay.main" 2>/dev/null || echo "$RELAY_MAIN")"
port="$(sed -n 's/^bind-addr = "127\.0\.0\.1:\([0-9]*\)"$/\1/p' "$conf" | head -n 1)"
[ -n "$port" ] || fail "no HTTP bind-addr in $SHOW_RUN/$name.toml"

sock="$RUN/haproxy.sock"
drain=0
[ "$SIGNAL" = TERM ] && [ -S "$sock" ] && pid_ours "$(pid_of haproxy)" && drain=1
# set_state STATE: the relay's HTTP, TCP, OpenTSDB and Graphite servers at HAProxy (they track HTTP's health, not
# its admin state). A relay without one of those listeners has no server there: only the HTTP one must succeed.
set_state() {
  haproxy_set_state "$sock" writes "$name" "$1" || fail "could not set $name to $1 at HAProxy"
  for pool in writes_tcp writes_opentsdb writes_graphite writes_api_put; do
    haproxy_set_state "$sock" "$pool" "$name" "$1" 2>/dev/null || true
  done
}
if [ "$drain" -eq 1 ]; then
  set_state drain
  log "restart-relay: $name set to drain at HAProxy; waiting for its sessions to end"
  for ((i = 0; i < DOWN_TIMEOUT * 10; i++)); do
    [ "$(haproxy_server "$sock" writes "$name" scur)" = 0 ] && break
    sleep 0.1
  done
fi

pid="$(pid_of "$name")"
if [ "$SIGNAL" = KILL ] && pid_ours "$pid"; then
  kill -KILL "$pid"
  while pid_ours "$pid"; do sleep 0.1; done
  log "restart-relay: killed $name (pid $pid) with SIGKILL"
  rm -f "$RUN/$name.pid"
elif [ -f "$RUN/$name.pid" ]; then
  stop_pidfile "$RUN/$name.pid" "$DOWN_TIMEOUT"
fi
[ -n "$pid" ] && wait_reaped "$pid" 10

start_process "$name" node "$main" -config "$conf"
wait_for "$name" "no answer on /ping" pings "http://127.0.0.1:$port"
if [ "$drain" -eq 1 ]; then
  set_state ready
  wait_for "$name" "HAProxy did not see it UP again" \
    eval '[ "$(haproxy_server "$sock" writes "$name" status)" = UP ] && [ "$(haproxy_server "$sock" writes "$name" check_status)" = L7OK ]'
  log "restart-relay: $name is back in HAProxy's write pool"
fi
log "restart-relay: $name is back (pid $(pid_of "$name"), log $SHOW_RUN/$name.log, spool $SHOW_RUN/$name/spool)"
