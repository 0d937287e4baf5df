#!/usr/bin/env bash
# make down: stops what `make up` started, by the PIDs in run/*.pid, front to back: HAProxy first (no new
# traffic), then the relays (SIGTERM: each answers /health 503 and drains its queues to the databases), then the
# databases. SIGTERM, then SIGKILL after DOWN_TIMEOUT seconds. Idempotent: nothing running is not an error.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOWN_TIMEOUT="${DOWN_TIMEOUT:-15}" # longer than the relays' shutdown-timeout (10s in up.sh's relay configs)

[ -d "$RUN" ] || exit 0
shopt -s nullglob
ordered=()
for f in "$RUN"/haproxy*.pid "$RUN"/relay*.pid; do ordered+=("$f"); done
for f in "$RUN"/*.pid; do
  case " ${ordered[*]} " in *" $f "*) ;; *) ordered+=("$f") ;; esac
done
for f in "${ordered[@]}"; do
  [ -f "$f" ] && stop_pidfile "$f" "$DOWN_TIMEOUT"
done
exit 0
