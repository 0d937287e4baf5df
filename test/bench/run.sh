#!/usr/bin/env bash
# `make bench` (after `make build`): the micro-benchmarks that are built (scanner, spool), then the relay scenarios
# (dist/test/bench/bench.js: relay → two nginx sinks, relay → two influxd, spool vs memory + backlog replay, UDP and
# TCP intake), which rewrite the results block of
# docs/benchmarks.md. BENCH_QUICK=1 is a smoke run (1 run × 3 s per case) that leaves docs/ alone; the other
# BENCH_* settings are listed at the top of test/bench/bench.ts.
#
# Every process the benchmark starts is recorded in $BENCH_PIDFILE; the EXIT trap stops each one by PID (TERM, then
# KILL), even when the run fails or is interrupted.
set -euo pipefail
cd "$(dirname "$0")/../.."

[[ -f dist/test/bench/bench.js ]] || { echo "bench: dist/test/bench/bench.js missing; run 'make build' first" >&2; exit 1; }

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/influx-relay-bench.XXXXXX")
export BENCH_TMP
export BENCH_PIDFILE="$BENCH_TMP/pids"
export BENCH_MICRO_DIR="$BENCH_TMP/micro"
mkdir -p "$BENCH_MICRO_DIR"
: >"$BENCH_PIDFILE"

# Is $1 still the process we started (and not a recycled PID)? Its command line must mention $2.
ours() {
  local cmd
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ $cmd == *"$2"* ]]
}

pattern_for() {
  case "$1" in
    nginx-*) echo nginx ;;
    influxd) echo influxd ;;
    wrk) echo wrk ;;
    go-relay) echo relay.toml ;; # GO_RELAY_BIN runs as "<bin> -config <dir>/relay.toml"
    *) echo node ;;
  esac
}

cleanup() {
  local rc=$? pid name left=()
  trap - EXIT INT TERM
  if [[ -s $BENCH_PIDFILE ]]; then
    while read -r pid name; do
      if ours "$pid" "$(pattern_for "$name")"; then
        kill -TERM "$pid" 2>/dev/null || true
        left+=("$pid:$name")
      fi
    done < <(tac "$BENCH_PIDFILE")
    if ((${#left[@]} > 0)); then
      echo "bench: stopping ${#left[@]} leftover process(es): ${left[*]}" >&2
      for _ in $(seq 1 50); do
        local alive=0 entry
        for entry in "${left[@]}"; do ours "${entry%%:*}" "$(pattern_for "${entry#*:}")" && alive=1; done
        ((alive == 0)) && break
        sleep 0.1
      done
      for entry in "${left[@]}"; do
        ours "${entry%%:*}" "$(pattern_for "${entry#*:}")" && kill -KILL "${entry%%:*}" 2>/dev/null || true
      done
    fi
  fi
  rm -rf "$BENCH_TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a node script in the background, recorded by PID, and waits for it (so a TERM to this script can stop it).
run_node() {
  local name=$1 out=$2
  shift 2
  node "$@" >"$out" &
  local pid=$!
  echo "$pid $name" >>"$BENCH_PIDFILE"
  wait "$pid"
}

for b in scanner spool; do
  js="dist/test/bench/$b.bench.js"
  if [[ -f $js ]]; then
    echo "bench: $js" >&2
    if ! run_node "$b-bench" "$BENCH_MICRO_DIR/$b.txt" "$js"; then
      echo "bench: $js failed; its output is left out of the report" >&2
      rm -f "$BENCH_MICRO_DIR/$b.txt"
    fi
  else
    echo "bench: skipping the $b micro-benchmark ($js is not built)" >&2
  fi
done

run_node bench /dev/stdout dist/test/bench/bench.js
