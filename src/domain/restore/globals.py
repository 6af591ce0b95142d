"""The cluster's globals beside each backup, and the roles a restore creates from them.

A database dump names roles it does not contain. Each backup therefore keeps
the output of ``pg_dumpall --globals-only`` beside it; ``restore
--with-globals`` creates, from those statements, only the roles the server
lacks. A role that exists is never altered, dropped or granted anything: every
statement about it is left out. This module holds the statements as the
adapter read them and the pure plan of what to run.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

import attrs


class Kind(enum.Enum):
    """What one statement of the globals does."""

    SESSION = "session"  # SET client_encoding and alike, for the statements after it
    ROLE = "role"  # CREATE ROLE, ALTER ROLE ... WITH, COMMENT ON / SECURITY LABEL ON ROLE
    ROLE_SETTING = "role setting"  # ALTER ROLE ... [IN DATABASE ...] SET ...
    MEMBERSHIP = "membership"  # GRANT <role> TO <member> ...
    PARAMETER_PRIVILEGE = "parameter privilege"  # GRANT SET ON PARAMETER ... TO <role>
    TABLESPACE = "tablespace"  # CREATE TABLESPACE and what refers to one
    OTHER = "other"


@attrs.frozen(kw_only=True)
class GlobalStatement:
    """One statement of a globals file.

    ``role`` is the role it is about: the role defined or configured, the
    member of a membership, the grantee of a parameter privilege. ``granted``
    is the role a membership grants, ``grantor`` the role named by ``GRANTED
    BY`` and ``sql_without_grantor`` the statement without that clause.
    ``database`` is the database of an ``IN DATABASE`` setting.
    ``login_without_password`` marks a role that may log in but is given no
    password; ``password`` is the password (a hash) a statement sets, a secret
    never to be shown.
    """

    kind: Kind
    sql: str
    role: str | None = None
    granted: str | None = None
    grantor: str | None = None
    sql_without_grantor: str | None = None
    database: str | None = None
    login_without_password: bool = False
    password: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class RolePlan:
    """What ``restore --with-globals`` runs, in one transaction, and what it leaves out."""

    created: tuple[str, ...]
    existing: tuple[str, ...]
    statements: tuple[str, ...]
    without_password: tuple[str, ...]
    skipped: tuple[GlobalStatement, ...]
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False)

    @property
    def changes_nothing(self) -> bool:
        """Return whether no role is missing (nothing is run)."""
        return not self.created


def plan_roles(
    statements: Sequence[GlobalStatement],
    *,
    existing_roles: Iterable[str],
    existing_databases: Iterable[str],
) -> RolePlan:
    """Return the statements that create the roles of ``statements`` the server lacks.

    Kept, in the file's order: the session settings; every statement defining
    a missing role; the settings of a missing role (those ``IN DATABASE`` only
    when that database exists); the memberships and parameter privileges whose
    member or grantee is a missing role, the group role being one that exists
    or is created (a ``GRANTED BY`` a role the server will not have is dropped:
    the restoring user is then the grantor). Everything about an existing role,
    tablespaces and statements of other kinds are left out and returned.
    """
    existing = set(existing_roles)
    databases = set(existing_databases)
    defined = [s.role for s in statements if s.kind is Kind.ROLE and s.role is not None]
    missing = {role for role in defined if role not in existing}
    will_exist = existing | missing
    kept: list[str] = []
    skipped: list[GlobalStatement] = []
    for statement in statements:
        sql = _kept(statement, missing=missing, will_exist=will_exist, databases=databases)
        if sql is None:
            skipped.append(statement)
        else:
            kept.append(sql)
    no_password = {s.role for s in statements if s.login_without_password}
    created = tuple(dict.fromkeys(role for role in defined if role in missing))
    return RolePlan(
        created=created,
        existing=tuple(dict.fromkeys(role for role in defined if role in existing)),
        statements=tuple(kept) if created else (),
        without_password=tuple(role for role in created if role in no_password),
        skipped=tuple(skipped),
        secrets=tuple(
            s.password for s in statements if s.password is not None and s.role in missing
        ),
    )


def _kept(
    statement: GlobalStatement,
    *,
    missing: set[str],
    will_exist: set[str],
    databases: set[str],
) -> str | None:
    """Return the SQL to run for ``statement``, or None to leave it out."""
    match statement.kind:
        case Kind.SESSION:
            return statement.sql
        case Kind.ROLE | Kind.PARAMETER_PRIVILEGE:
            return statement.sql if statement.role in missing else None
        case Kind.ROLE_SETTING:
            if statement.role not in missing:
                return None
            if statement.database is not None and statement.database not in databases:
                return None
            return statement.sql
        case Kind.MEMBERSHIP:
            if statement.role not in missing or statement.granted not in will_exist:
                return None
            if statement.grantor is None or statement.grantor in will_exist:
                return statement.sql
            return statement.sql_without_grantor
    return None
