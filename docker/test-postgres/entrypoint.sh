#!/bin/sh
# Initialises an empty PGDATA once (scram password, TCP on 127.0.0.1:$PGPORT
# only, optional database $POSTGRES_DB), then runs the server in the foreground
# with the container's arguments, as the official image does (`-c port=5433`).
# PGDATA is created (mode 0700) when missing, as in the official image's layout
# from 18 on: the volume at /var/lib/postgresql, the data in 18/docker inside it.
# The password comes from POSTGRES_PASSWORD, or from the file named by
# POSTGRES_PASSWORD_FILE (a Docker secret). As in the official image, the
# scripts /docker-entrypoint-initdb.d/*.sh run once, in name order, after initdb,
# with PGDATA set and a server running on the Unix socket only (PGUSER,
# PGPASSWORD and PGPORT set for psql): an executable one is run, any other is
# sourced. Its pg_hba.conf has no line matching replication connections: the
# official image's matches them only from the server's own host, and the
# controller is another host (here, on the host network, 127.0.0.1 plays that
# part). An init script adds the line where a test needs it.
set -eu

if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
  POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
fi
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE must be set}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username=postgres --pwfile="$pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"

  cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
fsync = off
CONF
  cat >"$PGDATA/pg_hba.conf" <<HBA
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
HBA

  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\";" | postgres --single -j -D "$PGDATA" postgres >/dev/null
  fi

  for script in /docker-entrypoint-initdb.d/*.sh; do
    [ -e "$script" ] || break
    if [ -z "${init_server:-}" ]; then
      pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w -s start
      init_server=started
      export PGUSER=postgres PGPASSWORD="$POSTGRES_PASSWORD" PGPORT
    fi
    echo "test-postgres-entrypoint: running $script"
    if [ -x "$script" ]; then
      "$script"
    else
      . "$script"
    fi
  done
  if [ -n "${init_server:-}" ]; then
    pg_ctl -D "$PGDATA" -m fast -w -s stop
    unset PGUSER PGPASSWORD
  fi
fi

exec postgres "$@"
