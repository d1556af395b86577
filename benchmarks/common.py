"""What every benchmark shares: a result row, timing by medians, and the table.

Every figure is compared with a baseline measured in the same run on the same machine:
the machines are shared and noisy, so only ratios measured together mean anything. Where a
target is an absolute bound (target 4: milliseconds), the baseline is the floor the
figure is measured against (a raw SQLite query, a bare directory walk) and the bound on
the figure decides whether it is met."""

from __future__ import annotations

import compileall
import functools
import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    target: str  # "1a", "4 list", ...
    name: str
    figure: float | None  # None: could not be measured (the reason goes in ``note``)
    unit: str
    baseline: float | None
    goal: str  # human text of the target, e.g. "≤ 1.25× baseline"
    met: bool | None
    note: str = ""
    # A measure that cannot be taken yet for a reason outside this run (a backend not
    # built yet): printed as "not yet", neither met nor a failure of the run.
    pending: bool = False

    @property
    def ratio(self) -> float | None:
        if self.figure is None or not self.baseline:
            return None
        return self.figure / self.baseline


def ratio_result(
    target: str,
    name: str,
    figure: float,
    baseline: float,
    unit: str,
    *,
    at_most: float | None = None,
    at_least: float | None = None,
    note: str = "",
) -> Result:
    """A target stated as figure/baseline ≤ ``at_most`` or ≥ ``at_least``."""
    ratio = figure / baseline if baseline else float("inf")
    if at_most is not None:
        return Result(
            target, name, figure, unit, baseline, f"≤ {at_most:g}×", ratio <= at_most, note
        )
    assert at_least is not None
    return Result(target, name, figure, unit, baseline, f"≥ {at_least:g}×", ratio >= at_least, note)


def bound_result(
    target: str,
    name: str,
    figure: float,
    unit: str,
    bound: float,
    baseline: float | None = None,
    note: str = "",
) -> Result:
    """A target stated as an absolute bound: figure ≤ ``bound``."""
    return Result(
        target, name, figure, unit, baseline, f"≤ {bound:g} {unit}", figure <= bound, note
    )


def missing(target: str, name: str, why: str) -> Result:
    """A measure that failed: counted as not met."""
    return Result(target, name, None, "", None, "", None, why)


def not_yet(target: str, name: str, why: str) -> Result:
    """A measure whose subject does not exist yet (printed "not yet", not a failure)."""
    return Result(target, name, None, "", None, "—", None, why, pending=True)


def time_median(fn: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds (garbage collection paused)."""
    for _ in range(warmup):
        fn()
    samples = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(samples)


def time_pair(
    figure: Callable[[], object], baseline: Callable[[], object], *, repeat: int = 9
) -> tuple[float, float]:
    """Fastest times (ms) of ``figure`` and ``baseline``, run alternately. Alternating
    spreads bursts of load from other processes over both sides; the fastest run of each
    is the one least disturbed (as ``timeit`` advises), which for CPU-bound work on a
    shared machine is far steadier than a median."""
    figure()
    baseline()
    a: list[float] = []
    b: list[float] = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for fn, out in ((figure, a), (baseline, b)):
                start = time.perf_counter()
                fn()
                out.append((time.perf_counter() - start) * 1000)
    finally:
        if gc_was:
            gc.enable()
    return min(a), min(b)


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}" if value else "0"
    return f"{text} {unit}".strip()


def table(results: list[Result]) -> str:
    """A Markdown table, readable in a terminal and pasteable into the docs: per measure
    its figure, the baseline measured beside it, their ratio, the target and whether
    it is met ("—" for context rows without a target)."""
    head = ["#", "measure", "figure", "baseline", "ratio", "target", "met"]
    rows = []
    for r in results:
        if r.pending:
            met = "not yet"
        elif r.met is None:
            met = "**NO**" if r.figure is None else "—"
        else:
            met = "yes" if r.met else "**NO**"
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}×"
        name = r.name + (f" ({r.note})" if r.note else "")
        rows.append(
            [r.target, name, _num(r.figure, r.unit), _num(r.baseline, r.unit), ratio, r.goal, met]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


def report(results: list[Result]) -> None:
    print(table(results), flush=True)


@functools.cache
def _compiled() -> None:
    for folder in ("app", "server", "imageshelf"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    compileall.compile_dir(ROOT / "benchmarks", maxlevels=0, quiet=1)  # not its .data


def launch_env() -> dict[str, str]:
    """The environment of a launched window (``gui_probe``, ``adopt_probe``): this one,
    offscreen, with the project's modules compiled and Python's bytecode cache on, as an
    installed Imageshelf starts (pip compiles at install; a checkout keeps its
    ``__pycache__``). Under ``PYTHONDONTWRITEBYTECODE`` (set in some shells and CI) each
    launch compiled the ≈ 160 modules it imports from source: ≈ 0.3 s of CPU of "6 paint"
    that no person's launch pays (docs/performance.md, "6 — The window")."""
    _compiled()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
