"""The test PostgreSQL server itself: running, on loopback only, as the C-collation
UTF-8 databases a team library needs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.pg_server import SUPERUSER, PgServer, stop_orphans

REPO = Path(__file__).resolve().parents[2]


def test_a_new_database_answers_on_loopback_with_byte_order(
    pg_server: PgServer, pg_url: str
) -> None:
    assert pg_server.host == "127.0.0.1"
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(
        host=pg_server.host, port=pg_server.port, user=SUPERUSER, dbname=dbname
    ) as conn:
        collate, ctype = conn.execute(
            "SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()"
        ).fetchone() or ("", "")
        assert (collate, ctype) == ("C", "C.UTF-8")
        listen = (conn.execute("SHOW listen_addresses").fetchone() or ("",))[0]
        assert listen == "127.0.0.1"
        # Byte (code point) order, as SQLite compares: "a/" < "a/z" < "a0", "Z" < "a".
        ordered = conn.execute(
            "SELECT x FROM unnest(ARRAY['a0', 'a/z', 'a/', 'a', 'Z', 'é']) AS x ORDER BY x"
        ).fetchall()
        assert [x for (x,) in ordered] == ["Z", "a", "a/", "a/z", "a0", "é"]


def test_the_server_of_a_killed_test_run_is_stopped_by_the_next(pg_server: PgServer) -> None:
    code = (
        "from tests.pg_server import PgServer, find_bin_dir\n"
        "s = PgServer(find_bin_dir()); s.start(); print(s.dir, s.port, flush=True); input()\n"
    )
    run = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert run.stdout is not None and run.stdin is not None
    where, port = run.stdout.readline().split()
    run.kill()  # no teardown: its server lives on
    run.wait(30)
    run.stdout.close()
    run.stdin.close()
    assert Path(where, "data", "postmaster.pid").exists()
    stop_orphans(pg_server.bin_dir)
    assert not Path(where).exists()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", int(port))) != 0
    # This session's own server (its owner is alive) was left alone.
    assert (pg_server.data / "postmaster.pid").exists()
