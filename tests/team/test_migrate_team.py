"""``imageshelf migrate`` through a team library on a real PostgreSQL
(tests/pg_server.py) and a bucket on a real S3-compatible server (tests/s3_server.py):
a folder library copied into a team library and back into a new folder keeps every id,
time, text, custom metadata, EXIF column, the trash, deleted ids, folders and the bytes;
the command line does the same and says what it did."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from imageshelf.app.library import Gone, Library, storage_from_url
from imageshelf.app.library.library_copy import copy_library
from tests.library.test_library_copy import _bytes, _fill
from tests.s3_server import S3Server, s3_bucket, s3_server

__all__ = ["s3_bucket", "s3_server"]


def test_folder_to_team_and_back(
    pg_database: str, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    bucket = storage_from_url(f"s3://{s3_bucket}/lib?path_style=1", tmp_path / "staging")
    with Library.open(tmp_path / "first") as first:
        ids = _fill(first)
        with Library.open_team(pg_database, bucket) as team:
            there = copy_library(first, team)
            assert (there.copied, there.trashed, there.failed) == (3, 1, [])
            again = copy_library(first, team)
            assert (again.copied, again.skipped) == (0, 4)
            with Library.open(tmp_path / "last") as last:
                back = copy_library(team, last)
                assert (back.copied, back.trashed, back.deleted_ids) == (3, 1, 1)
                for role in ("camera", "plain", "decorative"):
                    image_id = ids[role]
                    assert team.get(image_id) == first.get(image_id) == last.get(image_id)
                    assert _bytes(last, image_id) == _bytes(first, image_id)
                trashed = ids["trashed"]
                assert last.trash.get(trashed) == first.trash.get(trashed)
                for lib in (team, last):
                    try:
                        lib.get(ids["purged"])
                        raise AssertionError("a purged id came back")
                    except Gone:
                        pass
                assert "empty/kept" in {f.path for f in last.folder_tree()}


def test_the_command_line_both_ways(
    pg_database: str, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    with Library.open(tmp_path / "first") as first:
        ids = _fill(first)
        records = {i: first.get(i) for i in (ids["camera"], ids["plain"])}
    objects = f"s3://{s3_bucket}/lib"
    py = [sys.executable, "-m", "imageshelf", "migrate"]
    team = ["--to-database", pg_database, "--to-storage", objects, "--path-style"]
    run = subprocess.run(
        [*py, str(tmp_path / "first"), *team], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert "Copied 3 images and 1 trashed ones" in run.stdout
    source = ["--from-database", pg_database, "--from-storage", objects, "--path-style"]
    back = subprocess.run(
        [*py, *source, str(tmp_path / "last")], capture_output=True, text=True, timeout=300
    )
    assert back.returncode == 0, back.stderr
    with Library.open(tmp_path / "last") as last:
        assert {i: last.get(i) for i in records} == records
