"""Target 3: uploads over HTTP.

- 3a (issue 21): ``POST /v3/images`` of a 2 MP JPEG (multipart; validation, hashing,
  thumbnail, fsyncs, commit), 4 concurrent clients, against the *reachable ceiling*: the
  rate the same 4 clients get in the same run from the least work the contract requires
  of an upload, the bare endpoint's request (a Flask multipart endpoint that only writes
  and fsyncs the file, on the same waitress settings) plus the one decode and thumbnail
  (``servers.bare_inspect_app``, ``/upload-inspect``). Target ≥ 0.8×: our own overhead
  ≤ 25% of the required work, which is how issue 21 states it.
  Why not ``cores × 1000 / floor CPU`` as the issue first wrote: that ceiling assumes
  both cores serve uploads and nothing else, but ``wrk``, the kernel's journal and
  writeback and the loopback's interrupts share them, so the floor endpoint itself
  reaches only ≈ 0.85× of it, and "≥ 0.8× of it" would allow ≈ 6% of overhead, not the
  25% the issue names. The decision is in docs/performance.md ("3a judged against the
  reachable ceiling"); ``3a ceiling`` still prints ours against that formula, and the
  floor endpoint's own share of it, for context.
- 3a cpu: the same judged by the server's CPU time per upload (``/proc/<pid>/stat`` over
  the loads, the least of the rounds) against the floor endpoint's: the measure a shared
  machine does not swing. Target ≤ 1.25×.
- 3a bare: the rate against the bare write+fsync endpoint's (the old 3a), for context.
- 3b: server memory while 16 clients upload a 10 MiB image each at once: peak RSS of the
  server process. Goal < 300 MB. Baseline: its RSS before.
"""

from __future__ import annotations

import http.client
import io
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .bench_import import with_comment
from .common import Result, bound_result, missing, ratio_result, report
from .generate import sample_image
from .load import (
    HOST,
    ChildServer,
    LoadResult,
    best_of_alternated,
    load,
    multipart,
    with_cpu,
)
from .servers import TOKEN

TEN_MIB = 10 * 1024 * 1024
Run = Callable[[], LoadResult]


def _padded_jpeg(size: int) -> bytes:
    """A valid 12 MP JPEG padded with comment segments to ``size`` bytes (just under
    the 10 MiB limit): the largest upload the server accepts."""
    data = sample_image("JPEG", 12)
    while len(data) < size - 70_000:
        data = with_comment(data, b"x" * 65_000)
    return with_comment(data, b"x" * (size - len(data) - 4))


def _parallel_uploads(port: int, body: bytes, ctype: str, clients: int) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(clients)

    def one() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        try:
            barrier.wait()
            conn.request(
                "POST",
                "/v3/images",
                body=body,
                headers={"Content-Type": ctype, "Authorization": f"Bearer {TOKEN}"},
            )
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
        finally:
            conn.close()

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def _inspect_cpu_ms(photo: bytes) -> float:
    """The least CPU the contract's validation + thumbnail takes for ``photo``."""
    from imageshelf.app.library import imaging

    samples = []
    for _ in range(15):
        start = time.process_time()
        imaging.inspect(io.BytesIO(photo))
        samples.append((time.process_time() - start) * 1000)
    return min(samples)


def run(quick: bool = False) -> list[Result]:
    seconds = 2 if quick else 4
    photo = sample_image("JPEG", 2)
    body, ctype = multipart({"file": ("photo.jpg", photo, "image/jpeg")})
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        body_file = tmp_path / "body.bin"
        body_file.write_bytes(body)
        (tmp_path / "bare").mkdir()
        try:
            with (
                ChildServer("app", tmp_path / "lib") as app,
                ChildServer("bare-inspect", tmp_path / "bare") as bare,
            ):
                auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": ctype}

                def post(server: ChildServer, path: str, warm: bool = False) -> Run:
                    def run() -> LoadResult:
                        return load(server.url(path), connections=4,
                                    seconds=1 if warm else seconds, headers=auth,
                                    body_file=body_file, method="POST")  # fmt: skip

                    return with_cpu(server, run)

                for server, path in ((app, "/v3/images"), (bare, "/upload"),
                                     (bare, "/upload-inspect")):  # fmt: skip
                    post(server, path, warm=True)()
                best = best_of_alternated(
                    {
                        "ours": post(app, "/v3/images"),
                        "base": post(bare, "/upload"),
                        "floor": post(bare, "/upload-inspect"),
                    }
                )
                ours, base, floor = best["ours"], best["base"], best["floor"]
            inspect_ms = _inspect_cpu_ms(photo)
            cores = os.cpu_count() or 1
            if ours.cpu_ms is None or base.cpu_ms is None or floor.cpu_ms is None:
                raise RuntimeError("no upload was answered: the server CPU was not measured")
            ceiling = cores * 1000 / floor.cpu_ms
            errors = f", {ours.errors} errors" if ours.errors else ""
            results += [
                ratio_result(
                    "3a",
                    f"POST /v3/images 2 MP JPEG ({len(photo) // 1024} KB) vs the least work an "
                    "upload needs (bare endpoint + decode and thumbnail), same clients, same run",
                    ours.rps,
                    floor.rps,
                    "req/s",
                    at_least=0.8,
                    note=f"{ours.tool}, 4 clients{errors}",
                ),
                ratio_result(
                    "3a cpu",
                    "server CPU per upload vs the bare endpoint's + decode and thumbnail",
                    ours.cpu_ms,
                    floor.cpu_ms,
                    "ms",
                    at_most=1.25,
                    note=f"least of the rounds; the parts apart: bare {base.cpu_ms:.1f} ms, "
                    f"inspect alone {inspect_ms:.1f} ms in a quiet loop",
                ),
                Result(
                    "3a ceiling",
                    f"POST /v3/images rate vs {cores} cores / (bare CPU + decode and "
                    f"thumbnail: {floor.cpu_ms:.1f} ms), the ceiling no process reaches here",
                    ours.rps,
                    "req/s",
                    ceiling,
                    "—",
                    None,
                    f"the floor endpoint itself reaches {floor.rps / ceiling:.2f}× of it "
                    f"({floor.rps:.0f} req/s): wrk and the kernel share the cores",
                ),
                Result(
                    "3a bare",
                    "POST /v3/images rate vs the bare Flask write+fsync endpoint (the old 3a)",
                    ours.rps,
                    "req/s",
                    base.rps,
                    "—",
                    None,
                ),
            ]
        except Exception as exc:
            results.append(missing("3a", "uploads", f"failed: {exc!r}"))
    with tempfile.TemporaryDirectory() as tmp:
        big = _padded_jpeg(TEN_MIB - 1024)
        body, ctype = multipart({"file": ("big.jpg", big, "image/jpeg")})
        try:
            with ChildServer("app", Path(tmp) / "lib") as app:
                before, _ = app.memory_mb()
                statuses = _parallel_uploads(app.port, body, ctype, 16)
                _, peak = app.memory_mb()
            ok = sum(1 for s in statuses if s == 201)
            results.append(
                bound_result(
                    "3b",
                    "server peak RSS, 16 parallel 10 MiB uploads",
                    peak,
                    "MB",
                    300,
                    baseline=before,
                    note=f"{ok}/16 stored; baseline: RSS before",
                )
            )
        except Exception as exc:
            results.append(missing("3b", "memory under uploads", f"failed: {exc!r}"))
    return results


if __name__ == "__main__":
    report(run("--quick" in sys.argv))
