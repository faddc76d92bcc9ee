"""A real PostgreSQL server for the tests: ``initdb`` in a temporary folder, started on a free
127.0.0.1 port (plus a unix socket inside that folder), one fresh database per test, stopped and
deleted at the end.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user (through
``runuser``) in a folder that user owns. Servers left behind by a test session that was killed are
stopped and removed the next time a server is started.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

PREFIX = "andon-pg-"
SHARED_DB = "andon_test"  # holds the schemas of create_schema
DEBIAN_DIR = Path("/usr/lib/postgresql")  # Debian keeps initdb and pg_ctl here, off the PATH
START_TIMEOUT = 60  # seconds
HINT = ("install it (Debian: `apt-get install postgresql`; `make test` does this through "
        "`make system-deps`)")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be found or started; the message says what to do."""


def find_bin_dir() -> Path:
    """The folder with ``initdb``, ``pg_ctl`` and ``postgres``: from ``PATH`` first, then the
    newest of ``/usr/lib/postgresql/*/bin`` (where Debian puts them, off the ``PATH``)."""
    candidates = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    def major(path: Path) -> int:
        return int(path.parent.name) if path.parent.name.isdigit() else 0

    candidates += sorted((p.parent for p in DEBIAN_DIR.glob("*/bin/initdb")),
                         key=lambda p: major(p), reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable(
        "PostgreSQL was not found: no initdb/pg_ctl/postgres on PATH nor in "
        f"/usr/lib/postgresql/*/bin; {HINT}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _postmaster_pid(data: Path) -> int:
    try:
        return int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return 0


def _kill_postmaster(data: Path) -> None:
    pid = _postmaster_pid(data)
    if not pid or not alive(pid):
        return
    try:  # only a postgres process: the pid file may be stale and the pid reused
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return
    if b"postgres" in cmdline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # its backends exit when they see the postmaster gone


def sweep_leftovers(tmp: Path) -> None:
    """Stop and delete servers of earlier test sessions whose pytest process is gone."""
    for base in tmp.glob(PREFIX + "*"):
        try:
            owner = int((base / "owner").read_text())
        except (OSError, ValueError):
            owner = 0
        if owner and alive(owner):
            continue  # another test session that is still running
        if not owner and time.time() - base.stat().st_mtime < 300:
            continue  # being set up by another session this very moment
        _kill_postmaster(base / "data")
        shutil.rmtree(base, ignore_errors=True)


class PostgresServer:
    """One throw-away PostgreSQL cluster: ``start`` it, ``create_schema`` (or ``create_database``)
    for each test, ``stop`` it."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.base: Path | None = None
        self.port = 0
        self._admin: psycopg.Connection | None = None
        self._shared: psycopg.Connection | None = None  # to the database of create_schema
        self._count = 0
        self._user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._user = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "PostgreSQL refuses to run as root and there is no 'postgres' user to run it "
                    f"as; {HINT}") from None
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("PostgreSQL refuses to run as root and `runuser` (from "
                                          "util-linux) is missing to run it as 'postgres'")

    @property
    def data(self) -> Path:
        assert self.base is not None
        return self.base / "data"

    def _run(self, *args: str, timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._user is not None:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, cwd=self.base, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)

    def _check(self, proc: subprocess.CompletedProcess[str], what: str) -> None:
        if proc.returncode != 0:
            log = ""
            if self.base is not None and (self.base / "server.log").exists():
                log = (self.base / "server.log").read_text(errors="replace")[-3000:]
            raise PostgresUnavailable(
                f"{what} failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
                + (f"\nserver log:\n{log}" if log else ""))

    def start(self) -> PostgresServer:
        """initdb, start on a free port and wait until it answers; on any failure everything
        is stopped and removed again."""
        tmp = Path(tempfile.gettempdir())
        sweep_leftovers(tmp)
        self.base = Path(tempfile.mkdtemp(prefix=PREFIX, dir=tmp))
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        assert self.base is not None
        (self.base / "owner").write_text(str(os.getpid()))
        (self.base / "sock").mkdir()
        if self._user is not None:
            for path in (self.base, self.base / "sock"):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        self._check(self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                              "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"),
                    "initdb")
        for attempt in range(3):  # the free port may be taken before the server binds it
            self.port = free_port()
            options = (f"-p {self.port} -k {self.base / 'sock'} -c listen_addresses=127.0.0.1 "
                       "-c max_connections=200")
            proc = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "server.log"),
                             "-o", options, "-w", "-t", str(START_TIMEOUT), "start",
                             timeout=START_TIMEOUT + 10)
            if proc.returncode == 0:
                break
            _kill_postmaster(self.data)
            if attempt == 2:
                self._check(proc, "pg_ctl start")
        self._admin = self._connect("postgres")
        self._admin.execute(f"CREATE DATABASE {SHARED_DB}")
        self._shared = self._connect(SHARED_DB)

    def _connect(self, database: str) -> psycopg.Connection:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                                       dbname=database, autocommit=True, connect_timeout=5)
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PostgresUnavailable(f"PostgreSQL did not accept connections: {exc}") \
                        from None
                time.sleep(0.05)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _name(self, prefix: str) -> str:
        self._count += 1
        return re.sub(r"[^a-z0-9_]", "_", f"{prefix}_{self._count}".lower())[:60]

    def create_database(self, prefix: str = "test") -> str:
        """A new, empty database; returns its URL. (A copy of ``template1``: 0.1-0.3 s each, and
        dirty pages that make the final checkpoint slow; ``create_schema`` is the cheap choice.)"""
        assert self._admin is not None, "the server is not started"
        name = self._name(prefix)
        self._admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def create_schema(self, prefix: str = "test") -> str:
        """A new, empty schema in the shared test database, made the only one on the search path
        of the URL returned: as isolated as a database for SQL that names no schema, in a
        millisecond."""
        assert self._shared is not None, "the server is not started"
        name = self._name(prefix)
        self._shared.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url(SHARED_DB)}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        """Stop the server (fast, then immediate, then SIGKILL) and delete its folder. Idempotent."""
        for conn in (self._shared, self._admin):
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
        self._admin = self._shared = None
        if self.base is None:
            return
        if _postmaster_pid(self.data):
            for mode in ("fast", "immediate"):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    if self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "20",
                                 "stop", timeout=30).returncode == 0:
                        break
            _kill_postmaster(self.data)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None
        atexit.unregister(self.stop)
