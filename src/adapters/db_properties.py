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


def properties_from(described: str, name: str) -> DatabaseProperties | None:
    """Return the properties of database ``name`` from the output of :data:`DESCRIBE`."""
    if not described.strip():
        return None
    facts = json.loads(described)
    row = facts["database"]
    target = identifier(name)
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
    script = [
        f"ALTER DATABASE {target} OWNER TO {identifier(facts['owner'])};",
        f"ALTER DATABASE {target} CONNECTION LIMIT {int(row['datconnlimit'])};",
    ]
    if facts["comment"] is not None:
        script.append(f"COMMENT ON DATABASE {target} IS {literal(facts['comment'])};")
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
    if key.lower() not in _LIST_SETTINGS:
        return literal(value)
    return ", ".join(literal(item.strip().strip('"')) for item in value.split(","))


def identifier(name: str) -> str:
    """Return ``name`` quoted as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """Return ``text`` quoted as an SQL string literal (standard_conforming_strings on)."""
    return "'" + text.replace("'", "''") + "'"
