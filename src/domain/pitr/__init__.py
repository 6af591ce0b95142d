"""Point-in-time recovery: WAL streamed through a replication slot, base backups, and
the windows of time a server can be recovered to."""
