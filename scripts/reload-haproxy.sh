#!/usr/bin/env bash
# make reload-haproxy: applies a changed cluster file to the running HAProxy of `make up` without dropping a
# connection. The cluster file is derived again from haproxy/cluster.example.toml (with the ports `make up` used,
# run/ports.env), haproxy.cfg is regenerated and checked with `haproxy -c`; then a new HAProxy starts with `-sf` on
# the old one's PID: it takes over the listening sockets (SO_REUSEPORT), and the old one stops accepting and exits
# once its connections have ended. A config `haproxy -c` rejects changes nothing.
# For your own HAProxy: `make haproxy` (or `influx-relay haproxy -cluster FILE -out haproxy.cfg`), then its own
# reload (`systemctl reload haproxy` in master-worker mode, or `haproxy -f haproxy.cfg -sf $(cat haproxy.pid)`).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
fail() {
  log "reload-haproxy: $*"
  exit 1
}
HAPROXY="${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}"
[ -f "$RUN/ports.env" ] || fail "$SHOW_RUN/ports.env is missing: start the stack with 'make up' first"
# shellcheck source=/dev/null
source "$RUN/ports.env"
old="$(pid_of haproxy)"
pid_ours "$old" || fail "HAProxy of 'make up' is not running"

RUN_DIR="$RUN" cluster_for_up "$CLUSTER_EXAMPLE" "$RUN/cluster.next.toml" >/dev/null 2>"$RUN/haproxy-gen.log" ||
  { cat "$RUN/haproxy-gen.log" >&2; fail "could not derive the cluster file from $CLUSTER_EXAMPLE"; }
node "$ROOT/dist/src/main.js" haproxy -cluster "$RUN/cluster.next.toml" -out "$RUN/haproxy.next.cfg" 2>"$RUN/haproxy-gen.log" ||
  { cat "$RUN/haproxy-gen.log" >&2; fail "could not generate haproxy.cfg"; }
"$HAPROXY" -c -q -f "$RUN/haproxy.next.cfg" >"$RUN/haproxy-gen.log" 2>&1 ||
  { cat "$RUN/haproxy-gen.log" >&2; fail "haproxy -c rejects the new config: the running HAProxy is left as it is"; }
rm -f "$RUN/haproxy-gen.log"
mv -f "$RUN/cluster.next.toml" "$RUN/cluster.toml"
mv -f "$RUN/haproxy.next.cfg" "$RUN/haproxy.cfg"

start_process haproxy "$HAPROXY" -f "$RUN/haproxy.cfg" -db -sf "$old"
new="$(pid_of haproxy)"
for _ in $(seq 1 100); do
  pid_ours "$new" || fail "the new HAProxy exited (see $SHOW_RUN/haproxy.log)"
  [ "$(http_code "http://127.0.0.1:$HAPROXY_PORT/ping")" = 204 ] && ! pid_ours "$old" && break
  sleep 0.1
done
pid_ours "$new" || fail "the new HAProxy exited (see $SHOW_RUN/haproxy.log)"
log "reload-haproxy: HAProxy reloaded (pid $old → $new); $SHOW_RUN/haproxy.cfg is the new config"
