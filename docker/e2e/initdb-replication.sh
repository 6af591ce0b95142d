#!/bin/sh
# Run once by the e2e servers' entrypoint after initdb (docker/compose.e2e.yml):
# the line the README tells operators to add so that the controller, which
# connects from 127.0.0.1 in this host-networked stack, may open replication
# connections (pg_basebackup, pg_receivewal). Neither `all` databases nor any
# other line of pg_hba.conf matches a replication connection.
set -eu
echo "host replication all 127.0.0.1/32 scram-sha-256" >>"$PGDATA/pg_hba.conf"
