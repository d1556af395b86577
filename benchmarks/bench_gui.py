"""Target 6: the window on a library of N images (100,000 for the target), offscreen.

- First page of thumbnails painted ≤ 1.5 s after launch (thumbnails already cached).
  Baseline: an empty ``QListView`` shown by a fresh process (Python + Qt start).
- Scrolling from top to bottom never blocks the event loop > 50 ms: the longest gap
  between ticks of a 5 ms timer while the view is scrolled to its end again and again
  until every row is loaded.
- Peak RSS ≤ 500 MB. Baseline: the empty window's.

Each runs in a child process (``gui_probe.py``), so launch time and memory are a real
launch's."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .common import ROOT, Result, bound_result, launch_env, missing, report
from .generate import library


def probe(kind: str, root: Path, timeout: float) -> dict[str, float]:
    launched = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.gui_probe", kind, str(root), repr(launched)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=launch_env(),
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{kind} probe gave no result: {proc.stderr[-800:]}")


def run(n: int = 100_000, quick: bool = False) -> list[Result]:
    root = library(n)
    try:
        bare = probe("bare", root, 120)
        win = probe("window", root, 300)
    except Exception as exc:
        return [missing("6", "window", f"failed: {exc!r}")]
    complete = win.get("scroll_complete") == 1.0
    return [
        bound_result(
            "6 paint",
            f"first screen of thumbnails painted after launch ({win.get('rows_on_screen', 0):.0f}"
            " cells)",
            win["first_paint_s"] * 1000,
            "ms",
            1500,
            baseline=bare["first_paint_s"] * 1000,
            note=f"imports done {win['imported_s']:.2f} s, window built "
            f"{win['window_built_s']:.2f} s, CPU to the paint {win['first_paint_cpu_s']:.2f} s "
            f"(GUI thread {win['first_paint_gui_cpu_s']:.2f}); baseline: empty QListView",
        ),
        Result(
            "6 scroll",
            f"longest event-loop gap scrolling to the end ({win['rows_loaded']:,.0f} of "
            f"{win['total_rows']:,.0f} rows in {win['scroll_s']:.1f} s)",
            win["longest_gap_ms"],
            "ms",
            None,
            "≤ 50 ms",
            win["longest_gap_ms"] <= 50 and complete,
            "" if complete else "did not reach the end in time",
        ),
        bound_result(
            "6 rss",
            "peak RSS of the window process",
            win["peak_rss_mb"],
            "MB",
            500,
            baseline=bare["peak_rss_mb"],
            note="baseline: empty QListView",
        ),
    ]


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    report(run(1000 if quick else 100_000, quick))
