"""pagila (``tests/integration/data``) on each server of the e2e stack, PostgreSQL 18 included."""

from __future__ import annotations

from ..integration.data import DATA, load_pagila, pagila_for
from ..integration.servers import APP_DB, PgServer, recreate_database, run_psql


def load_fresh_pagila(server: PgServer, major: int) -> None:
    """Re-creates ``appdb`` on ``server`` (PostgreSQL ``major``) and loads pagila into it.

    The stored schema is written for PostgreSQL 18 with pgvector and loads
    there as it is; its rows are the ones rewritten for pgvector on 17. Up to
    17, ``load_pagila`` rewrites both.
    """
    recreate_database(server, APP_DB)
    if major < 18:
        load_pagila(server, major=major)
        return
    _, rows = pagila_for(17)
    schema = (DATA / "pagila-schema.sql").read_text(encoding="utf-8")
    run_psql(server, schema, single_transaction=True)
    run_psql(server, rows, single_transaction=True)
