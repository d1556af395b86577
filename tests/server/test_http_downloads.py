"""The contract's "Bulk downloads" through the Flask client and a live waitress server:
jobs by ids or folder, archives checked by ``zipfile`` and ``unzip -t``, UTF-8 names,
duplicate names, missing ids, Range/If-Range/HEAD, expiry (410) and the 400s."""

from __future__ import annotations

import http.client
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library, rules
from imageshelf.app.library.downloads import JobStatus
from imageshelf.server import BackgroundServer, create_app
from tests.conftest import image_bytes
from tests.server.http_helpers import AUTH, Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

UNKNOWN = "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"
DOWNLOADS = "/v3/images/downloads"


def _png(n: int, size: tuple[int, int] = (24, 16)) -> bytes:
    return image_bytes("PNG", size, color=(n * 37 % 256, 20, 90))


def _ready(api: Api, library: Library, body: dict[str, Any]) -> dict[str, Any]:
    """POSTs a job (202), waits for the core to finish preparing it, GETs it (READY)."""
    reply = api.request("POST", DOWNLOADS, json_body=body)
    assert reply.status == 202, reply.body
    job = reply.json()
    assert job["status"] in ("PENDING", "PROCESSING", "READY")
    assert reply.headers["Location"] == f"{DOWNLOADS}/{job['id']}"
    library.downloads.wait(job["id"], timeout=30)
    ready = api.get(f"{DOWNLOADS}/{job['id']}")
    assert ready.status == 200, ready.body
    assert ready.json()["status"] == "READY", ready.body
    return dict(ready.json())


def _archive(api: Api, job: dict[str, Any], **kw: Any) -> bytes:
    reply = api.get(urlsplit(job["download_url"]).path, **kw)
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == "application/zip"
    assert int(reply.headers["Content-Length"]) == job["size"] == len(reply.body)
    return reply.body


def _unzip_test(data: bytes, tmp_path: Path) -> str:
    if shutil.which("unzip") is None:
        pytest.fail("unzip is not installed: scripts/bootstrap.sh installs it")
    path = tmp_path / "archive.zip"
    path.write_bytes(data)
    done = subprocess.run(["unzip", "-t", str(path)], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.decode("utf-8", "replace")


def test_download_by_ids_is_a_checked_stored_zip(
    api: Api, library: Library, tmp_path: Path
) -> None:
    a = api.upload_ok(_png(1), "Logo.png", folder="brand")
    b = api.upload_ok(_png(2), "logo.png", folder="brand")  # same name but for case
    c = api.upload_ok(_png(3), "Café ünï 日本.png", folder="Été/Paris")
    d = api.upload_ok(_png(4), "root.png")
    gone = api.upload_ok(_png(5), "gone.png")["id"]
    assert api.request("DELETE", f"/v3/images/{gone}").status == 204

    job = _ready(api, library, {"image_ids": [c["id"], a["id"], UNKNOWN, b["id"], gone, d["id"]]})
    assert job["count"] == 4
    assert job["missing"] == [UNKNOWN, gone]
    assert job["download_url"] == f"{api.base_url}{DOWNLOADS}/{job['id']}/archive"
    assert job["expires_at"] > job["created_at"]
    assert set(job) == {
        "id",
        "status",
        "count",
        "size",
        "download_url",
        "missing",
        "created_at",
        "expires_at",
    }

    reply = api.get(f"{DOWNLOADS}/{job['id']}/archive")
    assert reply.headers["ETag"] == f'"{job["id"]}"'
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"filename*=UTF-8''imageshelf-{job['id']}.zip" in disposition
    data = _archive(api, job)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        # The order asked for; a name that differs only in case gets the -2 of its folder.
        assert zf.namelist() == [
            "Été/Paris/Café ünï 日本.png",
            "brand/Logo.png",
            "brand/logo-2.png",
            "root.png",
        ]
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.flag_bits & 0x800  # UTF-8 names
        for name, image_id in zip(zf.namelist(), (c["id"], a["id"], b["id"], d["id"]), strict=True):
            assert zf.read(name) == library.original_path(image_id)[1].read_bytes()
    report = _unzip_test(data, tmp_path)
    assert "No errors detected" in report


def test_folder_jobs_recursive_or_not(api: Api, library: Library) -> None:
    api.upload_ok(_png(1), "top.png", folder="trip")
    api.upload_ok(_png(2), "deep.png", folder="trip/day 1")
    api.upload_ok(_png(3), "other.png", folder="tripping")  # not under trip/
    api.upload_ok(_png(4), "root.png")

    def names(body: dict[str, Any]) -> list[str]:
        job = _ready(api, library, body)
        with zipfile.ZipFile(io.BytesIO(_archive(api, job))) as zf:
            return zf.namelist()

    assert names({"folder": "trip"}) == ["trip/top.png"]
    # By folder, then name: a folder's own images come before its sub-folders'.
    assert names({"folder": "/trip/", "recursive": True}) == ["trip/top.png", "trip/day 1/deep.png"]
    assert names({"folder": ""}) == ["root.png"]
    assert len(names({"folder": "", "recursive": True})) == 4


def test_range_resume_is_byte_identical(api: Api, library: Library) -> None:
    for n in range(5):
        api.upload_ok(_png(n, (64, 64)), f"p{n}.png", folder="set")
    job = _ready(api, library, {"folder": "set"})
    whole = _archive(api, job)
    path = f"{DOWNLOADS}/{job['id']}/archive"
    size = job["size"]

    pieces = []
    for start in range(0, size, 997):  # ranges that start inside headers and inside files
        end = min(start + 997, size) - 1
        part = api.get(path, headers={"Range": f"bytes={start}-{end}"})
        assert part.status == 206, part.body
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert int(part.headers["Content-Length"]) == len(part.body) == end - start + 1
        pieces.append(part.body)
    assert b"".join(pieces) == whole

    # curl -C -: an open-ended range from where the first attempt stopped.
    tail = api.get(path, headers={"Range": f"bytes={size // 2}-"})
    assert tail.status == 206 and whole[: size // 2] + tail.body == whole
    # If-Range: the same archive → the range; another validator → the whole archive.
    same = api.get(path, headers={"Range": "bytes=10-19", "If-Range": f'"{job["id"]}"'})
    assert (same.status, same.body) == (206, whole[10:20])
    other = api.get(path, headers={"Range": "bytes=10-19", "If-Range": '"dl_other"'})
    assert (other.status, other.body) == (200, whole)
    several = api.get(path, headers={"Range": "bytes=0-1,5-6"})
    assert (several.status, several.body) == (200, whole)
    past = api.get(path, headers={"Range": f"bytes={size}-"})
    assert past.status == 416 and past.error_code == "range_not_satisfiable"
    assert past.headers["Content-Range"] == f"bytes */{size}"
    head = api.request("HEAD", path)
    assert head.status == 200 and head.body == b""
    assert int(head.headers["Content-Length"]) == size
    cached = api.get(path, headers={"If-None-Match": f'"{job["id"]}"'})
    assert cached.status == 304 and cached.body == b""


def test_archive_follows_an_image_moved_after_the_job(api: Api, library: Library) -> None:
    image = api.upload_ok(_png(1), "moving.png", folder="before")
    job = _ready(api, library, {"image_ids": [image["id"]]})
    moved = api.request("PATCH", f"/v3/images/{image['id']}", json_body={"folder": "after"})
    assert moved.status == 200, moved.body
    with zipfile.ZipFile(io.BytesIO(_archive(api, job))) as zf:
        assert zf.namelist() == ["before/moving.png"]  # the name frozen with the job
        assert zf.testzip() is None


def test_expired_job_is_410_then_purged(api: Api, library: Library) -> None:
    image = api.upload_ok(_png(1), "old.png")
    job = _ready(api, library, {"image_ids": [image["id"], UNKNOWN]})
    with library.engine.begin() as conn:  # as if 24 hours had passed
        conn.execute(
            text("UPDATE download_jobs SET expires_at = created_at WHERE id = :id"),
            {"id": job["id"]},
        )
    for path in (f"{DOWNLOADS}/{job['id']}", f"{DOWNLOADS}/{job['id']}/archive"):
        reply = api.get(path)
        assert (reply.status, reply.error_code) == (410, "gone")
    assert library.downloads.expire() == 1
    with library.engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM download_entries WHERE job_id = :id"), {"id": job["id"]}
        ).scalar()
    assert left == 0
    assert api.get(f"{DOWNLOADS}/{job['id']}").status == 410  # still known as expired
    with library.engine.begin() as conn:  # 30 days later the row goes too
        conn.execute(
            text("UPDATE download_jobs SET expires_at = 0 WHERE id = :id"), {"id": job["id"]}
        )
    library.downloads.expire()
    assert api.get(f"{DOWNLOADS}/{job['id']}").status == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"image_ids": []},
        {"image_ids": [UNKNOWN] * 10_001},
        {"image_ids": UNKNOWN},
        {"image_ids": [UNKNOWN, "img_nope"]},
        {"image_ids": [UNKNOWN], "folder": "x"},
        {"image_ids": [UNKNOWN], "recursive": True},
        {"folder": "x", "recursive": "yes"},
        {"folder": "../etc"},
        {"folder": 7},
        {"image_ids": [UNKNOWN], "extra": 1},
        [UNKNOWN],
    ],
)
def test_malformed_job_requests_are_400(api: Api, body: object) -> None:
    reply = api.request("POST", DOWNLOADS, json_body=body)
    assert reply.status == 400, reply.body
    assert reply.error_code in ("invalid_input", "invalid_folder")


def test_unknown_jobs_and_empty_folders(api: Api) -> None:
    assert api.get(f"{DOWNLOADS}/dl_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B").status == 404
    assert api.get(f"{DOWNLOADS}/nonsense/archive").status == 404
    empty = api.request("POST", DOWNLOADS, json_body={"folder": "nothing-here"})
    assert (empty.status, empty.error_code) == (404, "not_found")
    assert (
        api.request("POST", DOWNLOADS, json_body={"image_ids": [UNKNOWN]}, auth=False).status == 401
    )


def test_ten_thousand_ids_are_accepted(api: Api, library: Library) -> None:
    image = api.upload_ok(_png(1), "one.png")
    unknown = [rules.new_image_id() for _ in range(9_999)]
    job = _ready(api, library, {"image_ids": [image["id"], *unknown]})
    assert job["count"] == 1 and job["missing"] == unknown


def _raw_get(server: BackgroundServer, path: str) -> tuple[int, int, bytes]:
    """Status, promised Content-Length and every byte that arrived before the server
    closed the connection (http.client would raise on a short body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", path, headers=AUTH)
    response = conn.getresponse()
    length = int(response.headers["Content-Length"])
    received = b""
    try:
        while chunk := response.fp.read1(65536) if response.fp else b"":
            received += chunk
    except (ConnectionError, OSError):
        pass
    conn.close()
    return response.status, length, received


@pytest.mark.folder_only  # edits the file in the library folder behind the app's back
def test_an_original_changed_after_preparation_aborts_the_download(
    live_server: BackgroundServer, library: Library
) -> None:
    """The headers promise bytes the job read; a file edited since stops the stream:
    the client gets fewer bytes than ``Content-Length``, never a complete-looking zip."""
    api_ids = []
    for n in range(3):
        buf = io.BytesIO(_png(n, (300, 300)))
        api_ids.append(library.add(buf, original_filename=f"f{n}.png").id)
    job = library.downloads.create(image_ids=api_ids)
    job = library.downloads.wait(job.id, 30)
    path = library.original_path(api_ids[1])[1]
    content = bytearray(path.read_bytes())
    content[-20] ^= 0xFF  # same size; the mtime moves, as any edit's does
    path.write_bytes(bytes(content))

    status, length, received = _raw_get(live_server, f"{DOWNLOADS}/{job.id}/archive")
    assert status == 200 and length == job.size
    assert len(received) < length
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(received))


@pytest.mark.folder_only  # edits the file in the library folder behind the app's back
def test_an_original_removed_after_preparation_aborts_the_download(
    live_server: BackgroundServer, library: Library
) -> None:
    ids = [library.add(io.BytesIO(_png(n)), original_filename=f"g{n}.png").id for n in range(2)]
    job = library.downloads.wait(library.downloads.create(image_ids=ids).id, 30)
    os.unlink(library.original_path(ids[0])[1])
    status, length, received = _raw_get(live_server, f"{DOWNLOADS}/{job.id}/archive")
    assert status == 200 and len(received) < length == job.size


def test_an_unreadable_file_fails_the_job_and_its_archive_is_409(library_path: Path) -> None:
    with Library.open(library_path) as lib:
        image = lib.add(io.BytesIO(image_bytes("PNG")), original_filename="x.png")
        lib.downloads.close()  # the job stays PENDING until the next open
        job = lib.downloads.create(image_ids=[image.id])
        path = lib.original_path(image.id)[1]
    path.unlink()
    path.mkdir()  # a directory where the file was: reading it fails (not "missing")
    with Library.open(library_path, reconcile=False) as lib:
        failed = lib.downloads.wait(job.id, 30)
        assert failed.status is JobStatus.FAILED and failed.error
        client = create_app(lib, token="t").test_client()
        auth = {"Authorization": "Bearer t"}
        shown = client.get(f"/v3/images/downloads/{job.id}", headers=auth).get_json()
        assert (shown["status"], shown["download_url"]) == ("FAILED", None)
        assert shown["error"] == failed.error
        reply = client.get(f"/v3/images/downloads/{job.id}/archive", headers=auth)
        assert reply.status_code == 409
        assert reply.get_json()["error"]["code"] == "not_ready"
