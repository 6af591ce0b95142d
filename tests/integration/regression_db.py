"""PostgreSQL's own ``regression`` database, as ``make installcheck`` leaves it, built on
this host and kept under /var/tmp for the next runs; and host clusters to run it in.

The build (a minute or two, once per PostgreSQL version) needs only Debian's
packages, which ``scripts/test`` installs: the source tarball of the installed
``postgresql-15`` from Debian's mirror (its SHA-256 checked against the
package's ``.dsc``), ``regress.c`` and contrib's ``autoinc.c`` and
``refint.c`` compiled against ``postgresql-server-dev-15``, and the
``pg_regress`` of ``postgresql-client-15``, run against a throwaway cluster
as the postgres user. The cluster, stopped, is the cache: each test starts a
copy of it (its C functions load the libraries from the cache's fixed path).
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

from .servers import PG_BIN, PgServer

PASSWORD = "regression-secret"
MIRRORS = (
    "http://deb.debian.org/debian/pool/main/p/postgresql-15",
    "http://deb.debian.org/debian-security/pool/updates/main/p/postgresql-15",
)
# The source of this version is known to be on the mirror; used when the installed
# version's is not (a security update whose source the mirror lacks). The tests of
# one major version change little between minor versions.
KNOWN_SOURCE = "15.18-0+deb12u1"
RUNUSER = "/usr/sbin/runuser"


def installed_version() -> tuple[str, str]:
    """Return the Debian version of postgresql-15 and its upstream part (``15.20``)."""
    debian = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "postgresql-15"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return debian, debian.split("-")[0]


def as_postgres(*argv: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    """Run ``argv`` as the postgres user; return its output or fail with its stderr."""
    command = [RUNUSER, "-u", "postgres", "--", *argv]
    if env:
        command = [RUNUSER, "-u", "postgres", "--", "env", *(f"{k}={v}" for k, v in env.items())]
        command += list(argv)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@attrs.frozen(kw_only=True)
class HostServer:
    """A PostgreSQL 15 cluster of this host, owned by postgres, on 127.0.0.1 with a password."""

    data: Path
    port: int

    @property
    def server(self) -> PgServer:
        return PgServer(service=f"host-{self.port}", port=self.port, password=PASSWORD)

    def pg_ctl(self, *args: str) -> None:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args)

    def start(self) -> None:
        self.pg_ctl("start", "-w", "-t", "120", "-l", str(self.data / "server.log"))

    def stop(self) -> None:
        self.pg_ctl("stop", "-w", "-m", "fast")


def new_cluster(data: Path, *, port: int) -> HostServer:
    """initdb a cluster in ``data`` (UTF-8, C locale) listening on 127.0.0.1:``port``."""
    data.parent.mkdir(parents=True, exist_ok=True)
    shutil.chown(data.parent, "postgres", "postgres")
    password_file = data.parent / "pwfile"
    password_file.write_text(PASSWORD + "\n")
    shutil.chown(password_file, "postgres", "postgres")
    as_postgres(
        str(PG_BIN / "initdb"),
        "-D",
        str(data),
        "--no-sync",
        "--encoding=UTF8",
        "--locale=C",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        f"--pwfile={password_file}",
    )
    password_file.unlink()
    _listen(data, port)
    return HostServer(data=data, port=port)


def _listen(data: Path, port: int) -> None:
    with (data / "postgresql.auto.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{data}'\nfsync = off\n"
        )


@contextmanager
def started_copy(template: Path, where: Path) -> Iterator[HostServer]:
    """Start a copy of the stopped cluster ``template`` in ``where``, on a free port."""
    where.mkdir(parents=True)
    shutil.chown(where, "postgres", "postgres")
    data = where / "data"
    subprocess.run(["cp", "-a", str(template), str(data)], check=True, timeout=600)
    (data / "postmaster.pid").unlink(missing_ok=True)
    host = HostServer(data=data, port=free_port())
    _listen(data, host.port)
    host.start()
    try:
        yield host
    finally:
        host.stop()


@contextmanager
def started_new(where: Path) -> Iterator[HostServer]:
    """Start a new, empty cluster in ``where``, on a free port."""
    host = new_cluster(where / "data", port=free_port())
    host.start()
    try:
        yield host
    finally:
        host.stop()


def regression_cluster() -> Path:
    """Return the data directory of a stopped cluster holding the ``regression`` database,
    building it first if this host has none for the installed PostgreSQL version."""
    debian, _ = installed_version()
    cache = Path(f"/var/tmp/pgbm-regression-{debian}")
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the others wait and reuse it
        done = cache / "cluster.done"
        if not done.exists():
            shutil.rmtree(cache / "cluster", ignore_errors=True)
            _build(cache, debian)
            done.touch()
    return cache / "cluster"


def _download(debian: str, into: Path) -> tuple[Path, str]:
    """Fetch the source tarball of ``debian`` (else of KNOWN_SOURCE), checked against its
    ``.dsc``; return it and its upstream version."""
    for version in dict.fromkeys([debian, KNOWN_SOURCE]):
        found = _download_version(version, into)
        if found is not None:
            return found, version.split("-")[0]
    raise AssertionError(f"the source of postgresql-15 {debian} is on none of {MIRRORS}")


def _download_version(debian: str, into: Path) -> Path | None:
    tarball = into / f"postgresql-15_{debian.split('-')[0]}.orig.tar.bz2"
    for mirror in MIRRORS:
        try:
            dsc = _fetch(f"{mirror}/postgresql-15_{debian}.dsc").decode()
            wanted = re.search(rf"^ ([0-9a-f]{{64}}) \d+ {re.escape(tarball.name)}$", dsc, re.M)
            if wanted is None:
                continue
            data = _fetch(f"{mirror}/{tarball.name}")
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() != wanted.group(1):
            raise AssertionError(f"{tarball.name} from {mirror} does not match its .dsc")
        tarball.write_bytes(data)
        return tarball
    return None


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        data: bytes = response.read()
        return data


def _build(cache: Path, debian: str) -> None:
    source = cache / "source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir()
    tarball, upstream = _download(debian, cache)
    top = f"postgresql-{upstream}/"
    wanted = (f"{top}src/test/regress/", f"{top}contrib/spi/")
    with tarfile.open(tarball) as archive:
        members = [
            m
            for m in archive.getmembers()
            if m.name.startswith(wanted) and ".." not in m.name and (m.isfile() or m.isdir())
        ]
        archive.extractall(source, members=members)
    tarball.unlink()
    regress = source / top / "src" / "test" / "regress"
    lib = cache / "lib"
    lib.mkdir(exist_ok=True)
    includes = subprocess.run(
        [str(PG_BIN / "pg_config"), "--includedir-server"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for name, c_file in (
        ("regress", regress / "regress.c"),
        ("autoinc", source / top / "contrib" / "spi" / "autoinc.c"),
        ("refint", source / top / "contrib" / "spi" / "refint.c"),
    ):
        compile_ = ["gcc", "-O2", "-fPIC", "-shared", f"-I{includes}"]
        subprocess.run(
            [*compile_, "-o", str(lib / f"{name}.so"), str(c_file)],
            check=True,
            timeout=300,
        )
    out = cache / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    for path in (source, out, lib):
        subprocess.run(["chown", "-R", "postgres:postgres", str(path)], check=True)
    data = cache / "cluster"
    host = new_cluster(data, port=free_port())
    host.start()
    try:
        subprocess.run(
            [
                RUNUSER,
                "-u",
                "postgres",
                "--",
                str(PG_BIN.parent / "lib" / "pgxs" / "src" / "test" / "regress" / "pg_regress"),
                f"--inputdir={regress}",
                f"--outputdir={out}",
                f"--bindir={PG_BIN}",
                f"--dlpath={lib}",
                f"--host={data}",
                f"--port={host.port}",
                f"--schedule={regress / 'parallel_schedule'}",
                "--max-connections=4",
                "--dbname=regression",
            ],
            capture_output=True,
            timeout=1800,
            check=False,  # a test whose output differs here still leaves its objects
        )
        tables = as_postgres(
            str(PG_BIN / "psql"),
            "-X",
            "-A",
            "-t",
            f"--host={data}",
            f"--port={host.port}",
            "--dbname=regression",
            "--command=SELECT count(*) FROM pg_class WHERE relnamespace NOT IN "
            "('pg_catalog'::regnamespace, 'information_schema'::regnamespace, "
            "'pg_toast'::regnamespace)",
        )
        if int(tables.strip()) < 500:
            raise AssertionError(f"pg_regress left a regression database of {tables} relations")
    finally:
        host.stop()


def temporary_root() -> Path:
    """A directory the postgres user can enter, for clusters of one test."""
    root = Path(tempfile.mkdtemp(prefix="pgbm-regression-", dir="/var/tmp"))
    root.chmod(0o755)
    return root
