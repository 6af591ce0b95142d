"""Point-in-time recovery's tools and files: the replication protocol, ``pg_receivewal``,
``pg_basebackup``, ``pg_verifybackup``, ``pg_waldump`` and the stream directories."""
