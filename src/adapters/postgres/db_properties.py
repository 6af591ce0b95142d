"""A database's properties (owner, privileges, settings, comment, encoding, locale) as SQL.

The restore swap replaces a database with a new one; these statements give the
new one everything the old one was besides its content.
"""

from __future__ import annotations

import json

from pg_backup_manager.domain.model import DatabaseProperties

# Settings whose value is a list, quoted element by element (as pg_dump does).
_LIST_SETTINGS = {
    "local_preload_libraries",
    "search_path",
    "session_preload_libraries",
    "shared_preload_libraries",
    "temp_tablespaces",
    "unix_socket_directories",
}

# to_jsonb keeps this working across versions whose pg_database columns differ.
DESCRIBE = r"""
SELECT json_build_object(
  'database', to_jsonb(d),
  'owner', pg_get_userbyid(d.datdba),
  'comment', shobj_description(d.oid, 'pg_database'),
  'encoding', pg_encoding_to_char(d.encoding),
  'tablespace', (SELECT spcname FROM pg_tablespace WHERE oid = d.dattablespace),
  'grants', (SELECT coalesce(json_agg(json_build_object(
                 'grantee',
                 CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                 'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]'::json)
             FROM aclexplode(d.datacl) a),
  'settings', (SELECT coalesce(json_agg(json_build_object(
                  'role', CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END,
                  'config', s.setconfig)), '[]'::json)
               FROM pg_db_role_setting s WHERE s.setdatabase = d.oid))
FROM pg_database d WHERE d.datname = :'a';
"""


# For a database that had no properties to keep (a new one): drop the scratch marker.
CLEAR_COMMENT = 'COMMENT ON DATABASE :"a" IS NULL;\n'


def properties_from(described: str) -> DatabaseProperties | None:
    """Return the properties in the output of :data:`DESCRIBE`, or None when it found none.

    The script names its database ``:"a"`` (a psql variable), so it can be
    given to any database: the restore gives it to the scratch database
    before that takes the target's name.
    """
    if not described.strip():
        return None
    facts = json.loads(described)
    row = facts["database"]
    options = [
        f"ENCODING {literal(facts['encoding'])}",
        f"LC_COLLATE {literal(row['datcollate'])}",
        f"LC_CTYPE {literal(row['datctype'])}",
    ]
    provider = row.get("datlocprovider", "c")
    locale = row.get("datlocale") or row.get("daticulocale")
    if provider == "i":
        options.append(f"LOCALE_PROVIDER icu ICU_LOCALE {literal(locale or '')}")
    elif provider == "b":
        options.append(f"LOCALE_PROVIDER builtin BUILTIN_LOCALE {literal(locale or '')}")
    if facts["tablespace"] not in (None, "pg_default"):
        options.append(f"TABLESPACE {identifier(facts['tablespace'])}")
    target = ':"a"'
    comment = literal(facts["comment"]) if facts["comment"] is not None else "NULL"
    script = [
        f"ALTER DATABASE {target} OWNER TO {identifier(facts['owner'])};",
        f"ALTER DATABASE {target} CONNECTION LIMIT {int(row['datconnlimit'])};",
        f"COMMENT ON DATABASE {target} IS {comment};",
    ]
    if row.get("datacl") is not None:
        script.append(f"REVOKE ALL ON DATABASE {target} FROM PUBLIC;")
        for grant in facts["grants"]:
            grantee = "PUBLIC" if grant["grantee"] == "PUBLIC" else identifier(grant["grantee"])
            option = " WITH GRANT OPTION" if grant["grantable"] else ""
            script.append(f"GRANT {grant['privilege']} ON DATABASE {target} TO {grantee}{option};")
    for setting in facts["settings"]:
        scope = f"ROLE {identifier(setting['role'])} IN " if setting["role"] else ""
        for config in setting["config"] or []:
            key, _, value = config.partition("=")
            script.append(f"ALTER {scope}DATABASE {target} SET {key} TO {_setting(key, value)};")
    return DatabaseProperties(create_options=" ".join(options), script="\n".join(script) + "\n")


def _setting(key: str, value: str) -> str:
    """Return ``value``, as ``pg_db_role_setting`` stores it, as the literal(s) that set it.

    A list setting is stored with each element quoted as the server quotes it
    (``"$user", public, "eu,sales"``); like pg_dump, each element goes back
    as a literal of its own, which the server quotes again the same way.
    """
    if key.lower() not in _LIST_SETTINGS:
        return literal(value)
    return ", ".join(literal(item) for item in split_guc_list(value))


def split_guc_list(value: str) -> list[str]:
    """Return the elements of a list setting's stored value, quotes undone.

    The rules of the server's ``SplitGUCList``: elements are separated by
    commas; one in double quotes may hold anything, with ``""`` for a quote;
    blanks around elements are not part of them.
    """
    items: list[str] = []
    position, end = 0, len(value)
    while position < end:
        while position < end and value[position].isspace():
            position += 1
        if position == end:
            break
        if value[position] == '"':
            item, position = _quoted(value, position + 1)
        else:
            start = position
            while position < end and value[position] != "," and not value[position].isspace():
                position += 1
            item = value[start:position]
        items.append(item)
        while position < end and value[position].isspace():
            position += 1
        if position < end and value[position] == ",":
            position += 1
    return items


def _quoted(value: str, position: int) -> tuple[str, int]:
    """Return the element quoted from ``position`` (after its opening quote) and what follows."""
    item: list[str] = []
    while position < len(value):
        if value[position] == '"':
            if value[position + 1 : position + 2] != '"':
                return "".join(item), position + 1
            position += 1
        item.append(value[position])
        position += 1
    return "".join(item), position


def identifier(name: str) -> str:
    """Return ``name`` quoted as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """Return ``text`` quoted as an SQL string literal (standard_conforming_strings on)."""
    return "'" + text.replace("'", "''") + "'"
