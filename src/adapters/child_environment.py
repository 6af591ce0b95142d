"""What a program the controller runs gets of the controller's environment: what it needs
to run (its ``PATH``, locale, time zone, temporary directory) and libpq's own settings,
never the controller's variables, which hold the services' passwords and the tokens."""

from __future__ import annotations

from collections.abc import Mapping

# Passed on as they are: none is a controller variable, none holds a secret.
PASSED_ON = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "LD_LIBRARY_PATH"}
)
# libpq's settings an operator may give the tools (TLS, Kerberos, timeouts): its
# environment variables but PGPASSWORD and PGPASSFILE, as each tool gets its own passfile.
LIBPQ = frozenset(
    f"PG{name}"
    for name in (
        *("HOST", "HOSTADDR", "PORT", "DATABASE", "USER", "SERVICE", "SERVICEFILE", "OPTIONS"),
        *("APPNAME", "REQUIREAUTH", "CHANNELBINDING", "REQUIREPEER", "CONNECT_TIMEOUT"),
        *("SSLMODE", "REQUIRESSL", "SSLCOMPRESSION", "SSLCERT", "SSLKEY", "SSLCERTMODE"),
        *("SSLROOTCERT", "SSLCRL", "SSLCRLDIR", "SSLSNI", "SSLNEGOTIATION"),
        *("SSLMINPROTOCOLVERSION", "SSLMAXPROTOCOLVERSION", "GSSENCMODE", "KRBSRVNAME"),
        *("GSSLIB", "GSSDELEGATION", "CLIENTENCODING", "TARGETSESSIONATTRS"),
        *("LOADBALANCEHOSTS", "DATESTYLE", "TZ", "GEQO", "SYSCONFDIR", "LOCALEDIR"),
    )
)


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Return what any program the controller runs gets of ``environ``: the variables of
    ``PASSED_ON`` and ``LIBPQ`` and the locale's ``LC_*``; never a password."""
    return {
        name: value
        for name, value in environ.items()
        if name in PASSED_ON or name in LIBPQ or name.startswith("LC_")
    }


# What an HTTP client reads of its environment: proxies and certificate authorities (a
# proxy's URL may carry its password: only the child that sends notifications gets them).
WEB = frozenset(
    {"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}
    | {f"{name}_PROXY" for name in ("HTTP", "HTTPS", "ALL", "NO")}
    | {f"{name}_proxy" for name in ("http", "https", "all", "no")}
)


def web_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the variables of ``WEB`` that ``environ`` has."""
    return {name: value for name, value in environ.items() if name in WEB}
