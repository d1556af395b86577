"""``imageshelf serve --database … --storage …`` that cannot open its team library says
why in one line and exits 1 — an unreachable or unknown database, an unreachable object
store, a bucket that is not there, no credentials — never a traceback, never a password;
and ``migrate`` into the wrong storage does not take rows for copies."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imageshelf.app.library import Library
from imageshelf.app.library import library_address as addresses
from imageshelf.app.library.library_copy import copy_library
from tests.conftest import image_bytes
from tests.pg_server import PgServer
from tests.s3_server import S3Server, s3_bucket, s3_server

__all__ = ["s3_bucket", "s3_server"]


def _serve(database: str, storage: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "imageshelf", "serve", "--database", database]
    argv += ["--storage", storage, "--path-style", "--port", "0"]
    full = os.environ | {"IMAGESHELF_API_TOKEN": "t"} | env
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=full)


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("database refused", "refused the connection"),
        ("no such database", "does not exist"),
        ("store unreachable", "Could not connect to the endpoint"),
        ("no such bucket", "does not exist at that endpoint"),
        ("no credentials", "Unable to locate credentials"),
    ],
)
def test_a_team_library_that_cannot_open_is_one_line(
    case: str,
    says: str,
    pg_server: PgServer,
    pg_database: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    database = addresses.with_password(pg_database, "hunter2")
    storage, env = f"s3://{s3_bucket}/lib", {}
    if case == "database refused":
        database = "postgresql://ann:hunter2@127.0.0.1:1/lib"
    elif case == "no such database":
        database = database.rsplit("/", 1)[0] + "/not_there"
    elif case == "store unreachable":
        env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    elif case == "no such bucket":
        storage = "s3://not-there/lib"
    else:
        env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    run = _serve(database, storage, env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert says in run.stderr, run.stderr
    assert run.stderr.strip().count("\n") == 0, run.stderr
    assert "Traceback" not in run.stderr and "hunter2" not in run.stderr + run.stdout


def test_migrate_into_a_storage_that_is_not_the_databases_copies_nothing_blindly(
    pg_database: str, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    """Rows already in the database whose bytes the given storage lacks are reported,
    not counted as there (the storage given is not the one that goes with the database)."""
    client = s3_server.client()
    client.create_bucket(Bucket=s3_bucket + "-other")  # type: ignore[attr-defined]
    with Library.open(tmp_path / "src") as src:
        img = src.add(io.BytesIO(image_bytes("PNG")), "a.png")
        right = addresses.team(pg_database, f"s3://{s3_bucket}/lib", path_style=True)
        wrong = addresses.team(pg_database, f"s3://{s3_bucket}-other/lib", path_style=True)
        with addresses.open_library(right) as team:
            assert copy_library(src, team).copied == 1
        with addresses.open_library(wrong) as team:
            report = copy_library(src, team)
    assert report.copied == 0 and report.skipped == 0
    assert report.failed and report.failed[0][0] == img.id
    assert "not its bytes" in report.failed[0][1]
