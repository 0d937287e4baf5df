#!/usr/bin/env bash
# Installs what is missing on a fresh Debian machine, idempotently and quietly:
#   - node_modules via `npm ci` when missing or older than package-lock.json;
#   - Debian packages (given as arguments; default: influxdb haproxy) whose binary is missing.
# Services that Debian packages would start on install (influxdb on :8086, nginx on :80) are
# kept from starting: tests and `make up` start their own processes on their own ports.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

pkgs=("$@")
if [ "${1:-}" = "--npm-only" ]; then
  pkgs=()
elif [ ${#pkgs[@]} -eq 0 ]; then
  pkgs=(influxdb haproxy)
fi

# The binary that tells whether a package is installed.
binary_for() {
  case "$1" in
    influxdb) echo influxd ;;
    collectd-core | collectd) echo collectd ;;
    nginx-light | nginx) echo nginx ;;
    netdata-core | netdata) echo netdata ;;
    lld) echo wasm-ld ;;
    *) echo "$1" ;;
  esac
}

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ] || [ -x "/sbin/$1" ]
}

# --- node_modules -----------------------------------------------------------
if ! have npm; then
  echo "ensure-deps: npm is not installed (this project needs Node.js >= 20 with npm)" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# --- Debian packages ----------------------------------------------------------
missing=()
for p in "${pkgs[@]}"; do
  have "$(binary_for "$p")" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO=(sudo); else
    echo "ensure-deps: missing ${missing[*]}; run as root or install them: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

log="$(mktemp)"
policy=/usr/sbin/policy-rc.d
made_policy=0
cleanup() {
  [ "$made_policy" -eq 1 ] && "${SUDO[@]}" rm -f "$policy"
  rm -f "$log"
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
  # 101 = "action forbidden": invoke-rc.d then starts no service during the install.
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  made_policy=1
fi

echo "ensure-deps: apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300)
if ! { "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  echo "ensure-deps: apt-get failed:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi

for p in "${missing[@]}"; do
  if ! have "$(binary_for "$p")"; then
    echo "ensure-deps: installed $p but $(binary_for "$p") is still not found" >&2
    exit 1
  fi
done
