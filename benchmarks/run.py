"""``make bench`` (``python -m benchmarks.run``): every target of issue 7 in one run, then
one table — figure, baseline, ratio, goal, met — to paste into ``docs/performance.md``.

    make bench                    # 100,000 images, the targets (within 10 minutes)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Imageshelf benchmarks (issue 7)")
    parser.add_argument("--quick", action="store_true", help="1,000 images, short loads")
    parser.add_argument("--only", nargs="*", default=None, help="targets to run: 1 .. 7")
    parser.add_argument("--n", type=int, default=None, help="library size (default 100000)")
    args = parser.parse_args(argv)
    n = args.n or (1000 if args.quick else 100_000)
    quick = args.quick
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    ensure_wrk()

    suites: list[tuple[str, str, Callable[[], list[Result]]]] = [
        ("1", "thumbnails", lambda: bench_thumbnail.run(quick)),
        ("4", "queries", lambda: bench_queries.run(n, quick)),
        ("6", "window", lambda: bench_gui.run(n, quick)),
        ("2", "proxy", lambda: bench_proxy.run(quick)),
        ("3", "uploads", lambda: bench_upload.run(quick)),
        ("5", "import", lambda: bench_import.run(quick)),
        ("7", "transforms", lambda: bench_transforms.run(quick)),
        # Issue 21's targets 1 and 2 (its own module; the photo set is cached in ~/.cache).
        ("21", "adoption and drop", lambda: bench_adopt.run(quick)),
    ]
    results: list[Result] = []
    for target, name, fn in suites:
        if args.only and target not in args.only:
            continue
        t0 = time.perf_counter()
        print(f"--- target {target}: {name}", flush=True)
        try:
            got = fn()
        except Exception as exc:
            traceback.print_exc()
            got = [missing(target, name, f"failed: {exc!r}")]
        print(table(got), flush=True)
        print(f"    ({time.perf_counter() - t0:.0f} s)", flush=True)
        results.extend(got)

    order = {t: i for i, (t, _, _) in enumerate(sorted(suites))}
    results.sort(key=lambda r: order.get(r.target[0], 99))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    elapsed = time.perf_counter() - started
    text = (
        f"Imageshelf benchmarks, {stamp}, {n:,} images{' (quick)' if quick else ''}, "
        f"{elapsed:.0f} s\n{machine()}\nload average (1 min) {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end: above ~0.5 other work shared these cores\n\n"
        f"{table(results)}\n"
    )
    print("\n" + text)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / f"latest{'-quick' if quick else ''}.md").write_text(text, encoding="utf-8")
    # Rows without a goal (met None, with a figure) are context, not targets.
    missed = [r for r in results if r.met is False or r.figure is None]
    if missed:
        print(f"{len(missed)} of {len(results)} not met: " + ", ".join(r.target for r in missed))
        return 1
    print(f"All {len(results)} targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
