#!/usr/bin/env bash
# Shared helpers for up.sh / down.sh (sourced). Processes are tracked by PID files in run/
# and only signalled when /proc shows they are still the process we started (their
# command line names a file under run/), so a recycled PID is never killed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${UP_RUN_DIR:-$ROOT/run}" # overridable for tests

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
