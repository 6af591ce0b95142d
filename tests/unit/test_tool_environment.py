"""What the PostgreSQL tools and every other program the controller runs get of its
environment: never a password, a token or a controller variable."""

from __future__ import annotations

from pg_backup_manager.adapters.child_environment import child_environment, web_environment
from pg_backup_manager.adapters.postgres.passfile import passfile_line

CONTROLLER = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/var/lib/postgresql",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "PGSSLMODE": "verify-full",
    "PGPASSWORD": "pgpassword-secret",
    "PGPASSFILE": "/somewhere/.pgpass",
    "USERS_POSTGRES_PASSWORD": "users-secret",
    "PGMAIN_OFFSITE_TOKEN": "a-token",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "HTTPS_PROXY": "http://user:proxy-secret@proxy:3128",
    "DATABASE_LIST": "users",
}


def test_a_program_gets_what_it_needs_to_run_and_libpqs_settings_never_a_secret() -> None:
    env = child_environment(CONTROLLER)

    assert sorted(env) == ["HOME", "LANG", "LC_ALL", "PATH", "PGSSLMODE", "TZ"]
    assert all(env[name] == CONTROLLER[name] for name in env)


def test_only_the_notifications_child_gets_the_proxies() -> None:
    assert web_environment(CONTROLLER) == {"HTTPS_PROXY": "http://user:proxy-secret@proxy:3128"}


def test_a_passfile_line_escapes_colons_and_backslashes_as_libpq_reads_them() -> None:
    line = passfile_line("app:user", "pa:ss\\word")

    assert line == b"*:*:*:app\\:user:pa\\:ss\\\\word\n"
