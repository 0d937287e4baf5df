#!/usr/bin/env bash
# Shared helpers for up.sh / down.sh (sourced). Processes are tracked by PID files in run/
# and only signalled when /proc shows they are still the process we started (their
# command line names a file under run/), so a recycled PID is never killed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${UP_RUN_DIR:-$ROOT/run}" # overridable for tests
RELAY_MAIN="${RELAY_MAIN:-$ROOT/dist/src/main.js}" # overridable, e.g. to try a stub
UP_TIMEOUT="${UP_TIMEOUT:-30}"

# RUN as shown to people: relative to the repo when inside it.
SHOW_RUN="${RUN#"$ROOT"/}"

log() { printf '%s\n' "$*" >&2; }

# True when pid is alive (not a zombie) and its command line mentions $RUN/.
pid_ours() {
  local pid="$1" state
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [ "$state" != "Z" ] || return 1
  { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$RUN/"
}

# pid_of NAME: the PID recorded in run/NAME.pid, or nothing.
pid_of() {
  local f="$RUN/$1.pid"
  [ -f "$f" ] && tr -dc '0-9' <"$f" || true
}

# stop_pidfile FILE TIMEOUT_S: SIGTERM, wait, SIGKILL after the timeout; removes the pid file.
stop_pidfile() {
  local file="$1" timeout="$2" name pid waited=0
  name="$(basename "$file" .pid)"
  pid="$(tr -dc '0-9' <"$file" || true)"
  if pid_ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    while pid_ours "$pid" && [ "$waited" -lt $((timeout * 10)) ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    if pid_ours "$pid"; then
      log "down: $name (pid $pid) still running after ${timeout}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while pid_ours "$pid"; do sleep 0.1; done
    fi
    log "down: stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

# start_process NAME CMD...: in its own session (survives the calling terminal), PID to run/NAME.pid,
# output appended to run/NAME.log (the previous run's log kept as NAME.log.prev).
start_process() {
  local name="$1"
  shift
  [ -f "$RUN/$name.log" ] && mv -f "$RUN/$name.log" "$RUN/$name.log.prev"
  setsid "$@" </dev/null >>"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

# wait_for NAME WHAT CMD...: until CMD succeeds (and NAME is still running), or NAME died, or UP_TIMEOUT passed.
# Calls `fail MESSAGE`, which the sourcing script defines.
wait_for() {
  local name="$1" what="$2" i pid
  shift 2
  pid="$(pid_of "$name")"
  for ((i = 0; i < UP_TIMEOUT * 10; i++)); do
    "$@" && pid_ours "$pid" && return 0
    if ! pid_ours "$pid"; then
      tail -n 20 "$RUN/$name.log" >&2 || true
      fail "$name exited during start (see $SHOW_RUN/$name.log)"
    fi
    sleep 0.1
  done
  tail -n 20 "$RUN/$name.log" >&2 || true
  fail "$name: $what within ${UP_TIMEOUT}s (see $SHOW_RUN/$name.log)"
}

pings() { [ "$(http_code "$1/ping")" = 204 ]; }

# wait_reaped PID SECONDS: until /proc/PID is gone, not just a zombie: a relay that held a spool lock by PID
# looks alive to the next one until then. Gives up quietly after SECONDS.
wait_reaped() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ -e "/proc/$1" ] || return 0
    sleep 0.1
  done
}

# haproxy_cmd SOCKET COMMAND: one command on HAProxy's runtime API (stats socket), its answer on stdout.
# Node, because socat is rarely installed.
haproxy_cmd() {
  node -e '
    const s = require("net").connect(process.argv[1], () => s.end(process.argv[2] + "\n"));
    s.pipe(process.stdout);
    s.on("error", (e) => { console.error(e.message); process.exit(1); });
  ' "$1" "$2"
}

# haproxy_server SOCKET BACKEND SERVER COLUMN: one column (scur, status, ...) of HAProxy's `show stat` for a server.
haproxy_server() {
  haproxy_cmd "$1" "show stat" | awk -F, -v be="$2" -v sv="$3" -v want="$4" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == be && $2 == sv { print $(col[want]) }'
}

# haproxy_set_state SOCKET BACKEND SERVER STATE: `set server BACKEND/SERVER state STATE` (ready, drain, maint) on the
# runtime API; fails with HAProxy's answer when it says anything (it answers nothing on success).
haproxy_set_state() {
  local out
  out="$(haproxy_cmd "$1" "set server $2/$3 state $4")" || { log "HAProxy's runtime API at $1: $out"; return 1; }
  case "$out" in *[A-Za-z]*) log "set server $2/$3 state $4: $out"; return 1 ;; esac
}

# port_free PORT: nothing can bind 127.0.0.1:PORT right now.
port_free() {
  node -e '
    const s = require("net").createServer();
    s.once("error", () => process.exit(1));
    s.listen({ host: "127.0.0.1", port: Number(process.argv[1]), exclusive: true }, () => s.close(() => process.exit(0)));
  ' "$1"
}

# http_code URL: the status of GET URL, 000 when nothing answers.
http_code() {
  curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true
}

# cluster_for_up SRC DST: writes DST, the cluster file SRC with the addresses of what up.sh starts on loopback
# (ports from the environment), and prints the stats user and password (one per line). Fails when SRC names a
# relay or database that up.sh does not start, so the example and this script cannot drift apart unnoticed.
cluster_for_up() {
  node --input-type=module - "$1" "$2" <<'JS'
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'smol-toml';
const [src, dst] = process.argv.slice(2);
const env = process.env;
const at = (port) => `127.0.0.1:${port}`;
const relay = (n) => ({
  address: at(env[`RELAY_${n}_PORT`]),
  'tcp-address': at(env[`RELAY_${n}_TCP_PORT`]),
  'opentsdb-address': at(env[`RELAY_${n}_OPENTSDB_PORT`]),
  'graphite-address': at(env[`RELAY_${n}_GRAPHITE_PORT`]),
});
const relays = { 'relay-1': relay(1), 'relay-2': relay(2) };
const databases = { 'influxdb-a': { address: at(env.INFLUX_A_PORT) }, 'influxdb-b': { address: at(env.INFLUX_B_PORT) } };
const die = (msg) => {
  console.error(`${src}: ${msg}`);
  process.exit(1);
};
let c;
try {
  c = parse(readFileSync(src, 'utf8'));
} catch (err) {
  die(err.message.split('\n')[0]);
}
const place = (list, known, what) => {
  const names = (list ?? []).map((e) => e.name);
  if (names.join(',') !== Object.keys(known).join(','))
    die(`${what} are [${names.join(', ')}]; make up starts [${Object.keys(known).join(', ')}]: change scripts/up.sh too`);
  for (const e of list) Object.assign(e, known[e.name]);
};
place(c.relays, relays, 'relays');
place(c.databases, databases, 'databases');
c.http = { ...c.http, bind: at(env.HAPROXY_PORT) };
c.tcp = { ...c.tcp, bind: at(env.HAPROXY_TCP_PORT) };
c.opentsdb = { ...c.opentsdb, bind: at(env.HAPROXY_OPENTSDB_PORT) };
c.graphite = { ...c.graphite, bind: at(env.HAPROXY_GRAPHITE_PORT) };
c.stats = { ...c.stats, bind: at(env.HAPROXY_STATS_PORT), socket: `${env.RUN_DIR}/haproxy.sock` };
c.freshness = { ...c.freshness, port: Number(env.HAPROXY_FRESHNESS_PORT) };
writeFileSync(dst, `# Written by scripts/up.sh from ${src}, with the ports of this \`make up\`. Edit that file instead.\n\n${stringify(c)}\n`);
console.log(c.stats.user ?? 'admin');
console.log(c.stats.password ?? '');
JS
}

# haproxy_checked URL USER PASS BACKEND SERVER...: true when HAProxy's stats CSV shows every SERVER of BACKEND
# UP after a passed health check (not just HAProxy's start-up assumption that it is up).
haproxy_checked() {
  local url="$1" user="$2" pass="$3" backend="$4" csv
  shift 4
  csv="$(curl -s -m 2 -u "$user:$pass" "$url;csv" 2>/dev/null)" || return 1
  printf '%s\n' "$csv" | awk -F, -v be="$backend" -v want="$*" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }   # "# pxname,svname,...": find the columns by name
    $1 == be && $(col["status"]) == "UP" && $(col["check_status"]) ~ /^L[4-7]OK$/ { ok[$2] = 1 }
    END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) exit 1 }'
}
