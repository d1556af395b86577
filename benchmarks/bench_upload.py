"""Target 3: uploads over HTTP.

- ``POST /v3/images`` of a 2 MP JPEG (multipart; validation, hashing, fsync, commit) with
  4 concurrent clients, against a bare Flask multipart endpoint that only writes and
  fsyncs the same file, on the same waitress settings. Goal ≥ 0.6×.
- Server memory while 16 clients upload a 10 MiB image each at once: peak RSS of the
  server process. Goal < 300 MB. Baseline: its RSS before.

Each load also reads the server process's CPU time (``/proc/<pid>/stat``), so the table
shows the CPU per request of both servers, and ``3a ceiling``: the best ratio any
implementation could reach on these cores, given the CPU the bare endpoint needs per
request plus the decode and thumbnail the contract requires (``imaging.inspect`` of the
same photo, timed here): ``cores × 1000 / (bare CPU + inspect CPU)`` req/s against the
bare rate. It assumes every core serves uploads and nothing else (not even ``wrk``), so
the true ceiling is lower.
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
from .load import HOST, ChildServer, LoadResult, best_of_alternated, load, multipart
from .servers import TOKEN

TEN_MIB = 10 * 1024 * 1024


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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _with_cpu(
    server: ChildServer, seconds: int, run: Callable[[], LoadResult], best: list[float]
) -> Callable[[], LoadResult]:
    """``run`` that also appends the server's CPU milliseconds per request to ``best``."""

    def measured() -> LoadResult:
        before = _cpu_seconds(server.proc.pid)
        got = run()
        used = _cpu_seconds(server.proc.pid) - before
        if got.rps > 0:
            best.append(used * 1000 / (got.rps * seconds))
        return got

    return measured


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
                ChildServer("bare-upload", tmp_path / "bare") as bare,
            ):
                auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": ctype}
                load(app.url("/v3/images"), connections=4, seconds=1, headers=auth,
                     body_file=body_file, method="POST")  # fmt: skip
                load(bare.url("/upload"), connections=4, seconds=1, headers=auth,
                     body_file=body_file, method="POST")  # fmt: skip
                cpu_ours: list[float] = []
                cpu_base: list[float] = []
                best = best_of_alternated(
                    {
                        "ours": _with_cpu(app, seconds, lambda: load(
                            app.url("/v3/images"), connections=4, seconds=seconds,
                            headers=auth, body_file=body_file, method="POST"), cpu_ours),
                        "base": _with_cpu(bare, seconds, lambda: load(
                            bare.url("/upload"), connections=4, seconds=seconds,
                            headers=auth, body_file=body_file, method="POST"), cpu_base),
                    }
                )  # fmt: skip
                ours, base = best["ours"], best["base"]
            inspect_ms = _inspect_cpu_ms(photo)
            cores = os.cpu_count() or 1
            cpu_note = (
                f"server CPU per request {min(cpu_ours):.1f} ms vs {min(cpu_base):.1f} ms"
                if cpu_ours and cpu_base
                else "server CPU not measured"
            )
            results.append(
                ratio_result(
                    "3a",
                    f"POST /v3/images 2 MP JPEG ({len(photo) // 1024} KB) vs bare Flask "
                    "write+fsync",
                    ours.rps,
                    base.rps,
                    "req/s",
                    at_least=0.6,
                    note=f"{ours.tool}, 4 clients; {cpu_note}"
                    + (f", {ours.errors} errors" if ours.errors else ""),
                )
            )
            if cpu_base:
                ceiling = cores * 1000 / (min(cpu_base) + inspect_ms)
                results.append(
                    Result(
                        "3a ceiling",
                        f"most any upload could reach: {cores} cores / (bare CPU "
                        f"{min(cpu_base):.1f} ms + decode and thumbnail {inspect_ms:.1f} ms)",
                        ceiling,
                        "req/s",
                        base.rps,
                        "—",
                        None,
                        "baseline: the bare rate; ratio = the best 3a ratio possible",
                    )
                )
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
