"""What a recovery is written and proven with: the recovered data directory, ``pg_waldump``
and a scratch server."""
