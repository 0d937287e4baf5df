#!/usr/bin/env bash
# make restart-relay N=1: stops relay-N of `make up` and starts it again with the same config (run/relay-N.toml),
# spool (run/relay-N/spool), log and PID file (run/relay-N.pid), so `make down` still knows it.
#   SIGNAL=TERM (default): it answers /health 503, drains for up to its shutdown-timeout, then exits
#                          (SIGKILL after DOWN_TIMEOUT seconds, as in make down).
#   SIGNAL=KILL:           a crash. What it acknowledged is in its spool and is sent once it is back.
# HAProxy takes the relay out of the write pool while it is gone (health.fall x health.inter) and back after
# health.rise checks. To restart without a single failed write, drain it first: see docs/deployment.md.
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
log "restart-relay: $name is back (pid $(pid_of "$name"), log $SHOW_RUN/$name.log, spool $SHOW_RUN/$name/spool)"
