"""A real PostgreSQL server for the tests: Debian's package, started in a temporary
directory as an unprivileged user (PostgreSQL refuses to run as root), listening on
127.0.0.1 only, stopped when the test session ends.

``pg_server`` (session) hands back a ``PgServer``: ``url(database)`` and
``create_database(name, template=...)``. A test that needs PostgreSQL and finds its
binaries missing FAILS with the words to fix it (CI installs them, see
scripts/bootstrap.sh): it never skips.

The data directory runs without fsync (a test server's crash loses nothing of value);
every database is made with the C collation and a UTF-8 ctype, which a team library
requires (``sql/engine.py``: byte order for folder ranges, as SQLite has)."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from imageshelf.app.library import Library
from imageshelf.app.library.layout import META_DIR, TMP_DIR
from imageshelf.app.library.sql.engine import make_engine, migrate
from imageshelf.app.library.storage import FolderStorage

SUPERUSER = "imageshelf"
_INSTALL = (
    "PostgreSQL's server binaries (initdb, pg_ctl) were not found: install them "
    "(Debian: apt-get install postgresql postgresql-contrib; scripts/bootstrap.sh does) or "
    "point IMAGESHELF_PG_BIN at their directory."
)


def find_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl: $IMAGESHELF_PG_BIN, Debian's versioned
    directories (newest first), or the PATH."""
    candidates = [os.environ.get("IMAGESHELF_PG_BIN", "")]
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for directory in candidates:
        if directory and all((Path(directory) / b).is_file() for b in ("initdb", "pg_ctl")):
            return Path(directory)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> list[str]:
    """The prefix that runs a command as an unprivileged user when we are root: the
    ``postgres`` account Debian's package makes, else ``nobody``."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"]
    raise RuntimeError("Running as root and no unprivileged user (postgres, nobody) exists.")


_PREFIX = "imageshelf-pg-"
_OWNER = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_orphans(bin_dir: Path) -> None:
    """Stops the servers of test runs that were killed before their teardown (their
    directory names an owner process that is gone); a live run's server is left alone."""
    for owner in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*/{_OWNER}"):
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            continue
        orphan = PgServer(bin_dir, owner.parent)
        orphan.stop(mode="immediate")


class PgServer:
    """One running server; ``stop()`` ends it and removes its directory."""

    def __init__(self, bin_dir: Path, existing: Path | None = None) -> None:
        self.bin_dir = bin_dir
        self.dir = existing or Path(tempfile.mkdtemp(prefix=_PREFIX))
        self.data = self.dir / "data"
        self.port = free_port()
        self.host = "127.0.0.1"
        self._prefix = _run_as()
        self._names = itertools.count(1)
        self._lock = threading.Lock()
        if existing is not None:
            return
        # Which process started it: a later run stops it if that one died (stop_orphans).
        (self.dir / _OWNER).write_text(str(os.getpid()))
        if self._prefix:
            user = self._prefix[2]
            entry = pwd.getpwnam(user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._prefix, *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.dir,
            timeout=120,
        )

    def start(self) -> None:
        done = self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--lc-collate=C",
        )
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr or done.stdout}")
        options = (
            f"-c listen_addresses={self.host} -c port={self.port} "
            f"-c unix_socket_directories={self.dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode:
            log = (self.dir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr}\n{log}")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def unique_name(self, prefix: str = "lib") -> str:
        with self._lock:
            return f"{prefix}_{os.getpid()}_{next(self._names)}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Makes ``name`` (a copy of ``template`` when given, which is fast) and returns
        its URL."""
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            source = template or "template0"
            conn.execute(
                f'CREATE DATABASE "{name}" TEMPLATE "{source}" ENCODING \'UTF8\' '
                "LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'"
            )
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for the whole session (fails, never skips, without one)."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail(_INSTALL, pytrace=False)
    stop_orphans(bin_dir)
    server = PgServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a new, empty database of its own for the test."""
    name = pg_server.unique_name("empty")
    yield pg_server.create_database(name)
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """The name of a database migrated to the head, never used by a test itself."""
    name = pg_server.unique_name("template")
    engine = make_engine(pg_server.create_database(name))
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return name


@pytest.fixture
def pg_database(pg_server: PgServer, pg_template: str) -> Iterator[str]:
    """The URL of the test's own migrated database."""
    name = pg_server.unique_name("lib")
    yield pg_server.create_database(name, template=pg_template)
    pg_server.drop_database(name)


def folder_storage(root: Path) -> FolderStorage:
    """A team library's storage for the tests: a folder (s3 builds the S3 one)."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / META_DIR / TMP_DIR
    tmp.mkdir(parents=True, exist_ok=True)
    return FolderStorage(root, tmp)


@pytest.fixture
def pg_library(pg_database: str, tmp_path: Path) -> Iterator[Library]:
    """A team library: its own PostgreSQL database and a folder as its storage."""
    lib = Library.open_team(pg_database, folder_storage(tmp_path / "team"))
    yield lib
    lib.close()
