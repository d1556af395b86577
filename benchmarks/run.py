"""``make bench`` (``python -m benchmarks.run``): every target of issues 7 and 21 in one
run, then one table — figure, baseline, ratio, target, met — to paste into
``docs/performance.md`` (also written to ``benchmarks/.data/latest.md``).

    make bench                    # 100,000 images, the targets (within 15 minutes)
    make bench ARGS=--quick       # 1,000 images, shorter loads: a check in ~2 minutes
    make bench ARGS="--only 2 4"  # some targets only

The first run builds the benchmark libraries under ``benchmarks/.data`` (about a minute
for 100,000 images); later runs reuse them."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import PIL

from . import (
    bench_adopt,
    bench_gui,
    bench_import,
    bench_proxy,
    bench_queries,
    bench_thumbnail,
    bench_transforms,
    bench_upload,
)
from .common import Result, missing, table
from .generate import DATA_DIR
from .load import have_wrk


def ensure_wrk() -> None:
    """``wrk`` is the load generator of targets 2 and 3; install it the way the bootstrap
    installs Qt's libraries (root with apt-get), else fall back to the Python client."""
    if have_wrk():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("Installing wrk (the HTTP load generator)...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        if not have_wrk():
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False,
                           stdout=subprocess.DEVNULL)  # fmt: skip
    if not have_wrk():
        print("wrk is not available: using the Python load generator (slower; ratios "
              "stay fair since both sides use it).", flush=True)  # fmt: skip


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"Pillow {PIL.__version__}"
    )


def _suites(n: int, quick: bool) -> list[tuple[str, str, Callable[[], list[Result]]]]:
    """(target, name, run) in the order they run: the quiet measures first, the loads
    that leave the machine busiest (transforms, hostile load) last."""

    def stress() -> list[Result]:
        from . import stress  # imports the tests' hostile inputs: only when it runs

        return stress.run(soak_seconds=10 if quick else 30)

    return [
        ("1", "thumbnails", lambda: bench_thumbnail.run(quick)),
        ("4", "queries", lambda: bench_queries.run_backends(n, quick)),
        ("6", "window", lambda: bench_gui.run(n, quick)),
        ("2", "proxy", lambda: bench_proxy.run(quick)),
        ("3", "uploads", lambda: bench_upload.run(quick)),
        ("5", "import", lambda: bench_import.run(quick)),
        ("7", "transforms", lambda: bench_transforms.run(quick)),
        ("11", "hostile load", stress),
        # Issue 21's targets 1 and 2 (its own module; the photo set is cached in ~/.cache).
        ("21", "adoption and drop", lambda: bench_adopt.run(quick)),
    ]


def _load() -> float:
    return os.getloadavg()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Imageshelf benchmarks (issues 7, 21)")
    parser.add_argument("--quick", action="store_true", help="1,000 images, short loads")
    parser.add_argument("--only", nargs="*", default=None, help="targets to run: 1 .. 7, 11, 21")
    parser.add_argument("--n", type=int, default=None, help="library size (default 100000)")
    args = parser.parse_args(argv)
    n = args.n or (1000 if args.quick else 100_000)
    quick = args.quick
    started = time.perf_counter()
    load_before = _load()
    ensure_wrk()

    suites = _suites(n, quick)
    ran: list[tuple[str, list[Result]]] = []
    per_suite: list[str] = []
    for target, name, fn in suites:
        if args.only and target not in args.only:
            continue
        # The last target's writes are flushed before this one starts: 3b alone leaves
        # ~160 MB of dirty pages, whose writeback would otherwise compete with the next
        # target's fsyncs (target 5 measured 1.49x after it on a quiet machine, 2.09x
        # in the run before).
        os.sync()
        t0 = time.perf_counter()
        load_at = _load()
        print(f"--- target {target}: {name} (load average {load_at:.1f})", flush=True)
        try:
            got = fn()
        except Exception as exc:
            traceback.print_exc()
            got = [missing(target, name, f"failed: {exc!r}")]
        took = time.perf_counter() - t0
        print(table(got), flush=True)
        print(f"    ({took:.0f} s)", flush=True)
        ran.append((target, got))
        per_suite.append(f"{target} {name}: {took:.0f} s, load {load_at:.1f}")

    # One table, in target order (1, 2, ... 11), each suite's rows as it made them.
    ran.sort(key=lambda tr: int(tr[0]) if tr[0].isdigit() else 99)
    results = [r for _, got in ran for r in got]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    elapsed = time.perf_counter() - started
    scored = [r for r in results if not r.pending and (r.met is not None or r.figure is None)]
    missed = [r for r in scored if r.met is not True]
    pending = [r for r in results if r.pending]
    summary = (
        f"{len(scored) - len(missed)} of {len(scored)} targets met"
        + (f"; not met: {', '.join(r.target for r in missed)}" if missed else "")
        + (f"; not yet measurable: {', '.join(r.target for r in pending)}" if pending else "")
    )
    text = (
        f"Imageshelf benchmarks, {stamp}, {n:,} images{' (quick)' if quick else ''}, "
        f"{elapsed:.0f} s ({elapsed / 60:.1f} min)\n{machine()}\n"
        f"load average (1 min) {load_before:.1f} at the start, {_load():.1f} at the end: "
        "above ~0.5 other work shared these cores\n"
        f"per target (time, load average as it started): {'; '.join(per_suite)}\n\n"
        f"{table(results)}\n\n{summary}.\n"
    )
    print("\n" + text)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / f"latest{'-quick' if quick else ''}.md").write_text(text, encoding="utf-8")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
