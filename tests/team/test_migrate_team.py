"""``imageshelf migrate`` through a team library on a real PostgreSQL
(tests/pg_server.py) and a bucket on a real S3-compatible server (tests/s3_server.py):
a folder library copied into a team library and back into a new folder keeps every id,
time, text, custom metadata, EXIF column, the trash, deleted ids, folders and the bytes;
the command line does the same and says what it did."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

from imageshelf.app.library import Gone, Library, storage_from_url
from imageshelf.app.library.idempotency import StoredAnswer
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


def _bookkeeping(lib: Library, ids: dict[str, str]) -> dict[str, str]:
    """API keys (one limited to folders), shares (a folder share with a password, an
    image list), a download job and an answered idempotency key; returns the secrets."""
    _key, admin = lib.keys.create("ci", "admin")
    _key, limited = lib.keys.create("trips-only", "upload", ["trips"], 30)
    folder_share = lib.shares.create(
        folder="trips", recursive=True, password="open sesame", folder_share=True
    )
    list_share = lib.shares.create(image_ids=[ids["plain"], ids["camera"]], expires_in=3600)
    job = lib.downloads.create(image_ids=[ids["camera"], ids["plain"]])
    lib.downloads.wait(job.id, 30)
    assert lib.idempotency.claim("p", "k", "POST /v3/images", "f" * 64).outcome.value == "proceed"
    answer = StoredAnswer(201, '{"Location": "/v3/images/x"}', b'{"id": "x"}')
    lib.idempotency.finish("p", "k", answer)
    return {
        "admin": admin,
        "limited": limited,
        "folder_share": folder_share.token,
        "list_share": list_share.token,
        "job": job.id,
    }


def _same_bookkeeping(a: Library, b: Library, secrets: dict[str, str]) -> None:
    def keys(lib: Library) -> list[tuple[object, ...]]:  # last use moves with each verify
        return [
            (k.name, k.scope, k.folders, k.created_at_us, k.expires_at_us) for k in lib.keys.list()
        ]

    assert keys(b) == keys(a)
    for name, role in (("ci", "admin"), ("trips-only", "limited")):
        found = b.keys.verify(secrets[role])  # the secret a client holds still works
        assert found is not None and found.name == name
    assert b.keys.get("trips-only").folders == ("trips",)
    assert b.shares.active() == a.shares.active()
    shared = b.shares.open(secrets["folder_share"])
    assert b.shares.check_password(shared, "open sesame")
    assert not b.shares.check_password(shared, "wrong")
    listed = b.shares.open(secrets["list_share"])
    assert [r.id for r in b.shares.images(listed).items] == [
        r.id for r in a.shares.images(a.shares.open(secrets["list_share"])).items
    ]
    job = b.downloads.wait(secrets["job"], 30)  # prepared again from b's own files
    assert job.status == "READY" and job.count == 2
    assert _archived(b, job.id) == _archived(a, job.id)
    replay = b.idempotency.claim("p", "k", "POST /v3/images", "f" * 64)
    assert replay.outcome.value == "replay" and replay.stored is not None
    assert replay.stored.body == b'{"id": "x"}'


def _archived(lib: Library, job_id: str) -> dict[str, bytes]:
    with lib.downloads.archive(job_id).stream() as stream:
        data = stream.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_keys_shares_jobs_and_answers_travel_both_ways(
    pg_database: str, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    bucket = storage_from_url(f"s3://{s3_bucket}/rows?path_style=1", tmp_path / "staging")
    with Library.open(tmp_path / "first") as first:
        ids = _fill(first)
        secrets = _bookkeeping(first, ids)
        with Library.open_team(pg_database, bucket) as team:
            report = copy_library(first, team)
            assert report.rows == {
                "api_keys": 2,
                "shares": 2,
                "share_images": 2,
                "download_jobs": 1,
                "download_entries": 2,
                "idempotency_keys": 1,
            }
            _same_bookkeeping(first, team, secrets)
            assert set(copy_library(first, team).rows.values()) == {0}  # nothing twice
            with Library.open(tmp_path / "last") as last:
                copy_library(team, last)
                _same_bookkeeping(first, last, secrets)
