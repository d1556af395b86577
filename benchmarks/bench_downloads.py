"""Download jobs (issue 17): how fast an archive streams compared with reading its files,
and the end-to-end ZIP64-by-count run (70,000 entries) through a real waitress server,
checked by ``unzip -t`` and ``zipfile``. Prints figures; nothing is asserted.

    python -m benchmarks.bench_downloads [--files 250] [--count 70000]

The libraries are built in a temporary folder: one image added through ``Library.add``,
then its file hard-linked under new names with rows inserted by the core's own
``sql.rows.insert`` (adding 70,000 images one by one would take far longer than the run
itself, and links keep every file's bytes in the page cache for both sides of the
comparison)."""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import requests
from PIL import Image

from imageshelf.app.library import Library, rules
from imageshelf.app.library.sql import rows
from imageshelf.server import BackgroundServer

TOKEN = "bench-downloads-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BLOCK = 1024 * 1024


def _noise_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def _build(root: Path, content: bytes, count: int, folder: str) -> None:
    """``count`` images of ``content`` in ``folder``: one real add, the rest links + rows."""
    with Library.open(root, reconcile=False) as lib:
        first = lib.add(io.BytesIO(content), original_filename="img-0.png", folder=folder)
        path = lib.original_path(first.id)[1]
        mtime_ns = path.stat().st_mtime_ns
        for start in range(1, count, 5000):
            batch = range(start, min(start + 5000, count))
            if start % 60_000 < 5000 and start > 5000:
                # A file has at most 65,000 names on ext4: a copy (same bytes and mtime)
                # takes the next ones.
                copy = path.with_name(f".source-{start}")
                shutil.copyfile(path, copy)
                os.utime(copy, ns=(mtime_ns, mtime_ns))
                path = copy
            for i in batch:
                os.link(path, path.with_name(f"img-{i}.png"))
            with lib.core.write() as conn:
                for i in batch:
                    rows.insert(
                        conn,
                        replace(first, id=rules.new_image_id(), filename=f"img-{i}.png"),
                        mtime_ns,
                    )


def _rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / seconds / 1e6:8.1f} MB/s ({seconds:6.2f} s)"


def _download(base: str, body: dict[str, object], dest: Path) -> tuple[dict[str, object], float]:
    job = requests.post(f"{base}/v3/images/downloads", json=body, headers=AUTH, timeout=60).json()
    while job["status"] in ("PENDING", "PROCESSING"):
        time.sleep(0.2)  # a client polling as the contract says (a benchmark, not a test)
        job = requests.get(f"{base}/v3/images/downloads/{job['id']}", headers=AUTH, timeout=60)
        job = job.json()
    started = time.perf_counter()
    if shutil.which("curl"):  # a real client: Python's requests would be the bottleneck
        auth = f"Authorization: Bearer {TOKEN}"
        command = ["curl", "-sSf", "-H", auth, "-o", str(dest), str(job["download_url"])]
        subprocess.run(command, check=True, timeout=600)
    else:
        with requests.get(str(job["download_url"]), headers=AUTH, stream=True, timeout=60) as r:
            r.raise_for_status()
            with open(dest, "wb") as out:
                for chunk in r.iter_content(BLOCK):
                    out.write(chunk)
    return job, time.perf_counter() - started


def throughput(tmp: Path, files: int) -> None:
    root = tmp / "throughput"
    content = _noise_png(1200)  # ≈ 4.3 MB: no compression to speak of
    _build(root, content, files, "big")
    total = len(content) * files
    with Library.open(root, reconcile=False) as lib:
        paths = [root / "big" / f"img-{i}.png" for i in range(files)]
        started = time.perf_counter()
        for p in paths:
            with open(p, "rb") as f:
                while f.read(BLOCK):
                    pass
        plain = time.perf_counter() - started

        started = time.perf_counter()
        job = lib.downloads.wait(lib.downloads.create(folder="big").id, 600)
        prepare = time.perf_counter() - started
        archive = lib.downloads.archive(job.id)
        started = time.perf_counter()
        stream = archive.stream()
        while stream.read(256 * 1024):
            pass
        stream.close()
        streamed = time.perf_counter() - started

        ids = [r.id for r in lib.list_images(folder="big", page_size=100).items][:files]
        with BackgroundServer(lib, host="127.0.0.1", port=0, token=TOKEN) as server:
            dest = tmp / "throughput.zip"
            _, http = _download(server.base_url, {"folder": "big"}, dest)
            # The same server sending plain files (/i/{id}, wsgi.file_wrapper), by curl.
            links = [f"{server.base_url}/i/{i}" for i in ids]
            started = time.perf_counter()
            subprocess.run(
                ["curl", "-sSf", *[a for link in links for a in ("-o", os.devnull, link)]],
                check=True,
                timeout=600,
            )
            originals = time.perf_counter() - started
            served = len(content) * len(links)
        print(f"{files} files of {len(content):,} bytes, archive {archive.size:,} bytes")
        print(f"  reading the files             {_rate(total, plain)}")
        print(f"  preparing (CRC-32)           {_rate(total, prepare)}  {prepare / plain:5.2f}x")
        print(
            f"  archive stream, in process    {_rate(archive.size, streamed)}  "
            f"{streamed / plain:5.2f}x"
        )
        print(f"  archive over HTTP (waitress)  {_rate(archive.size, http)}  {http / plain:5.2f}x")
        print(
            f"  /i/{{id}} originals over HTTP  {_rate(served, originals)}  "
            f"({len(links)} files, one curl)"
        )
        dest.unlink()


def zip64_by_count(tmp: Path, count: int) -> None:
    root = tmp / "count"
    tiny = io.BytesIO()
    Image.new("RGB", (2, 2), (10, 20, 30)).save(tiny, "PNG")
    started = time.perf_counter()
    _build(root, tiny.getvalue(), count, "many")
    built = time.perf_counter() - started
    dest = tmp / "many.zip"
    with (
        Library.open(root, reconcile=False) as lib,
        BackgroundServer(lib, host="127.0.0.1", port=0, token=TOKEN) as server,
    ):
        started = time.perf_counter()
        job, http = _download(server.base_url, {"folder": "many"}, dest)
        whole = time.perf_counter() - started
    started = time.perf_counter()
    with zipfile.ZipFile(dest) as zf:
        entries = len(zf.infolist())
    unzip = "unzip not installed"
    if shutil.which("unzip"):
        done = subprocess.run(["unzip", "-tq", str(dest)], capture_output=True, timeout=600)
        unzip = "ok" if done.returncode == 0 else done.stdout.decode(errors="replace")[-300:]
    checked = time.perf_counter() - started
    print(f"ZIP64 by count: {count:,} images (built in {built:.1f} s)")
    print(
        f"  job + download {whole:6.2f} s (download alone {http:5.2f} s), "
        f"{job['size']:,} bytes, zipfile sees {entries:,} entries, unzip -t: {unzip} "
        f"({checked:.1f} s to check)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=250)
    parser.add_argument("--count", type=int, default=70_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        throughput(Path(tmp), args.files)
        zip64_by_count(Path(tmp), args.count)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
