#!/usr/bin/env bash
# make down: stops what `make up` started, by the PIDs in run/*.pid (relay first, so it can
# drain to the backends), SIGTERM then SIGKILL after DOWN_TIMEOUT seconds. Idempotent.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOWN_TIMEOUT="${DOWN_TIMEOUT:-15}"

[ -d "$RUN" ] || exit 0
shopt -s nullglob
# Front to back: the relay (and later haproxy) before the databases they write to.
ordered=()
for f in "$RUN"/haproxy*.pid "$RUN"/relay*.pid; do ordered+=("$f"); done
for f in "$RUN"/*.pid; do
  case " ${ordered[*]} " in *" $f "*) ;; *) ordered+=("$f") ;; esac
done
for f in "${ordered[@]}"; do
  [ -f "$f" ] && stop_pidfile "$f" "$DOWN_TIMEOUT"
done
exit 0
