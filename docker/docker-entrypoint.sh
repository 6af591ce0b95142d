#!/bin/sh
# Gives the mounted backup directories to postgres:postgres, then replaces
# itself with the command (by default `/controller start`), which runs as the
# postgres user and, being PID 1 through exec, receives `docker stop`'s SIGTERM.
set -e
if [ "$(id -u)" = 0 ]; then
    for directory in /var/lib/postgresql/backup /var/lib/postgresql/backup/data \
                     /var/lib/postgresql/backup/shared; do
        [ -d "$directory" ] && chown postgres:postgres "$directory"
    done
    # Backup directories and their files: every one must be the postgres user's.
    for root in /var/lib/postgresql/backup/data /var/lib/postgresql/backup/shared; do
        find "$root" -mindepth 1 \( ! -user postgres -o ! -group postgres \) \
            -exec chown -h postgres:postgres {} + 2>/dev/null || true
    done
    # Database directories are the database containers' own: only a fresh
    # (root-owned) mount point is handed over; live data keeps its owner.
    for directory in /var/lib/postgresql/databases /var/lib/postgresql/databases/*; do
        [ -d "$directory" ] && [ "$(stat -c %u "$directory")" = 0 ] \
            && chown postgres:postgres "$directory"
    done
fi
exec "$@"
