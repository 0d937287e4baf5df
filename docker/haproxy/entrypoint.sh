#!/bin/sh
# HAProxy's entrypoint in docker-compose.yml: the stats password never sits in haproxy.cfg or in git.
# HAPROXY_STATS_PASSWORD from the environment wins; otherwise one is generated once and kept in the
# haproxy-state volume (/var/lib/haproxy/stats-password, readable by HAProxy's user only). Read it with
#   docker compose -f docker/docker-compose.yml exec haproxy cat /var/lib/haproxy/stats-password
set -eu
file="${HAPROXY_STATS_PASSWORD_FILE:-/var/lib/haproxy/stats-password}"
if [ -z "${HAPROXY_STATS_PASSWORD:-}" ]; then
  if [ ! -s "$file" ]; then
    umask 077
    # 24 random bytes, letters and digits only: safe inside the double quotes of haproxy.cfg.
    head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "entrypoint: generated the stats password in $file" >&2
  fi
  HAPROXY_STATS_PASSWORD="$(cat "$file")"
fi
export HAPROXY_STATS_PASSWORD
exec docker-entrypoint.sh "$@"
