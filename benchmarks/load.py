"""Load generation against a server in a child process, on 127.0.0.1 only.

``wrk`` when it is installed (``run.py`` installs it where it can, as the bootstrap does
with Qt's libraries); otherwise a Python client of keep-alive ``http.client``
connections on threads. On a 2-core machine the Python client is itself a bottleneck, so
its absolute figures are low — but the figure and its baseline are always measured with
the same client, so the ratio stays fair."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .common import ROOT

HOST = "127.0.0.1"


class ChildServer:
    """``python -m benchmarks.servers KIND ARG...`` in a child process."""

    def __init__(self, kind: str, *args: str | Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.servers", kind, *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"the {kind} server did not start: {line!r}")
        self.port = int(line.split()[1])

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (``/proc``): what a
        request costs in-process, which unlike its rate a shared machine barely moves."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> tuple[float, float]:
        """(current RSS, peak RSS) of the server process in MB."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        return rss / 1024, hwm / 1024

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> ChildServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class LoadResult:
    rps: float
    errors: int  # non-2xx/3xx answers and socket errors
    tool: str
    requests: int = 0  # answered in the run
    # The server's CPU time per request over the run, in ms (``with_cpu``), else None.
    cpu_ms: float | None = None


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    body_file: Path | None,
    method: str,
) -> LoadResult:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    with tempfile.TemporaryDirectory() as tmp:
        if body_file is not None or method != "GET":
            script = Path(tmp) / "request.lua"
            body = (
                f'local f = assert(io.open("{body_file}", "rb"))\n'
                "wrk.body = f:read('*all')\nf:close()\n"
                if body_file
                else ""
            )
            script.write_text(f'wrk.method = "{method}"\n' + body)
            args += ["-s", str(script)]
        out = subprocess.run(
            [*args, url], capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: .*?(\d+) timeout"):
        m = re.search(pattern, out)
        if m:
            errors += int(m.group(1))
    return LoadResult(rps, errors, "wrk", done)


def _python(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    body_file: Path | None,
    method: str,
) -> LoadResult:
    m = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    assert m is not None
    host, port, path = m.group(1), int(m.group(2)), m.group(3)
    body = body_file.read_bytes() if body_file else None
    deadline = time.perf_counter() + seconds
    done = [0] * connections
    errors = [0] * connections

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while time.perf_counter() < deadline:
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 400:
                    errors[i] += 1
                done[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return LoadResult(sum(done) / elapsed, sum(errors), "python", sum(done))


def load(
    url: str,
    *,
    connections: int = 32,
    seconds: float = 5,
    headers: dict[str, str] | None = None,
    body_file: Path | None = None,
    method: str = "GET",
) -> LoadResult:
    """Requests per second over ``seconds`` with ``connections`` keep-alive clients."""
    assert url.startswith(f"http://{HOST}:"), "load only ever targets the loopback"
    tool = _wrk if have_wrk() and os.environ.get("BENCH_CLIENT") != "python" else _python
    return tool(
        url,
        connections=connections,
        seconds=seconds,
        headers=headers or {},
        body_file=body_file,
        method=method,
    )


def with_cpu(server: ChildServer, run: Callable[[], LoadResult]) -> Callable[[], LoadResult]:
    """``run`` whose result also carries ``server``'s CPU milliseconds per request."""

    def measured() -> LoadResult:
        before = server.cpu_seconds()
        got = run()
        used = server.cpu_seconds() - before
        cpu = used * 1000 / got.requests if got.requests else None
        return dataclasses.replace(got, cpu_ms=cpu)

    return measured


def best_of_alternated(
    runs: dict[str, Callable[[], LoadResult]],
    rounds: int = 2,
    every: dict[str, list[LoadResult]] | None = None,
    *,
    turn_order: bool = False,
) -> dict[str, LoadResult]:
    """Each load run ``rounds`` times, round-robin, keeping each one's best: a burst of
    other work on this shared machine then spoils one round of a side, not the ratio.
    The best rate and the least CPU per request are each kept, from whichever round;
    ``every`` (when given) gets each round's result too, in order. ``turn_order``: every
    other round runs them in reverse (A B, B A, A B, …), so neither always goes first."""
    best: dict[str, LoadResult] = {}
    for number in range(rounds):
        order = list(runs.items())
        if turn_order and number % 2:
            order.reverse()
        for name, run in order:
            got = run()
            if every is not None:
                every.setdefault(name, []).append(got)
            old = best.get(name)
            if old is None:
                best[name] = got
                continue
            cpus = [c for c in (old.cpu_ms, got.cpu_ms) if c is not None]
            top = got if got.rps > old.rps else old
            best[name] = dataclasses.replace(top, cpu_ms=min(cpus) if cpus else None)
    return best


@contextlib.contextmanager
def keepalive(port: int) -> Iterator[http.client.HTTPConnection]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def multipart(fields: dict[str, tuple[str, bytes, str] | str]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body and its content type."""
    boundary = "benchmark-boundary-7d1f0e"
    parts: list[bytes] = []
    for name, value in fields.items():
        if isinstance(value, tuple):
            filename, data, ctype = value
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
            )
            parts.append(head.encode() + data + b"\r\n")
        else:
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            parts.append(head.encode() + value.encode() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
