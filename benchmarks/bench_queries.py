"""Target 4: reading a library of N images (100,000 for the target).

- List pages in the core (``Library.list``): first, middle and last, with and without a
  folder filter (the largest folder), plus the "needs alt text" filter. Goal ≤ 5 ms for
  the slowest. Baseline: the same page as a raw keyset query on ``sqlite3`` (the floor).
- The same pages end to end over HTTP (``GET /v3/images``, keep-alive, real waitress in
  a child process). Goal ≤ 15 ms for the slowest.
- Search, first page, for terms of 3+ characters (common and rare, ASCII and not). Goal
  ≤ 5 ms for the slowest. Baseline: the same count and page by ``LIKE '%term%'`` (what
  the index saves). Shorter terms scan; reported, no goal.
- ``folders()`` ≤ 5 ms.
- Issue 16 (``listing_cases.py``): cursor pages (first, middle, near the end, before)
  in every sort and with the new filters, ``ids``, and every ``meta.KEY`` filter in every
  sort at every depth by cursor and by page number: the same goals (≤ 5 ms core, ≤ 15 ms
  HTTP) for the slowest. ``BENCH_VERBOSE=1`` prints every case, ``BENCH_SLOWEST=N`` the
  slowest N.
- Opening the library, reconciliation included, when nothing changed. Goal ≤ 2 s.
  Baseline: a bare ``os.scandir`` walk stat-ing every file (the floor of noticing a
  change made while the app was closed).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imageshelf.app.library import Library

from . import listing_cases, postgres
from .common import Result, bound_result, missing, report, time_median
from .generate import library
from .load import ChildServer, keepalive
from .servers import TOKEN

SEARCH_TERMS = ("bicycle", "umbrella", "富士山", "crème", "_000123", "sevilla catedral")
SHORT_TERMS = ("ca", "ñ")


@dataclass(frozen=True)
class Backend:
    """Where the library's database lives; the query cases run the same on each."""

    name: str  # "SQLite", "PostgreSQL": said in every row's measure but SQLite's
    tag: str  # appended to each row's target: "" for SQLite, " pg"
    open: Callable[[], Library]
    server: tuple[str, ...]  # the ChildServer serving this library over HTTP
    connect: Callable[[], Any]  # a bare DB-API connection to the database: the floors
    placeholder: str  # that driver's parameter marker
    # The folder whose bare walk is the floor of opening (a folder library reconciles
    # with its folder at open); None: nothing is walked (a team library).
    walk_root: Path | None
    open_measure: str  # what "4 open" measures on this backend


def sqlite_backend(n: int) -> Backend:
    root = library(n)
    db = root / ".imageshelf" / "library.db"
    return Backend(
        "SQLite",
        "",
        lambda: Library.open(root),
        ("app", str(root)),
        lambda: sqlite3.connect(db),
        "?",
        root,
        "incl. reconciliation",
    )


def _bare_walk(root: Path) -> int:
    count = 0
    stack = [str(root)]
    while stack:
        for entry in os.scandir(stack.pop()):
            if entry.is_dir(follow_symlinks=False):
                if entry.name != ".imageshelf":
                    stack.append(entry.path)
            else:
                entry.stat(follow_symlinks=False)
                count += 1
    return count


def _keyset_floor(backend: Backend) -> float:
    conn = backend.connect()
    q = backend.placeholder
    try:
        row = conn.execute(
            "SELECT created_at, id FROM images ORDER BY created_at DESC, id DESC "
            "LIMIT 1 OFFSET 50000"
        ).fetchone()

        def page() -> None:
            conn.execute(
                f"SELECT * FROM images WHERE (created_at, id) < ({q}, {q}) "
                "ORDER BY created_at DESC, id DESC LIMIT 25",
                tuple(row) if row else (0, ""),
            ).fetchall()

        return time_median(page, repeat=21)
    finally:
        conn.close()


def _like_baseline(backend: Backend, term: str) -> float:
    """The same answer (a count and the first page, newest first) the naive way: a
    ``LIKE`` scan of every row. What the trigram index and the plan choice save."""
    conn = backend.connect()
    q = backend.placeholder
    like = f"%{term}%"

    def naive() -> None:
        conn.execute(f"SELECT COUNT(*) FROM images WHERE search_text LIKE {q}", (like,)).fetchone()
        conn.execute(
            f"SELECT * FROM images WHERE search_text LIKE {q} "
            "ORDER BY created_at DESC, id DESC LIMIT 25",
            (like,),
        ).fetchall()

    try:
        return time_median(naive, repeat=5)
    finally:
        conn.close()


def _case_median(call: Callable[[], object]) -> float:
    """Median of 15 runs, or of 5 for a case over 5× the 5 ms bound on its first run: a
    median of 5 says as surely that it is over, and 15 runs of a 600 ms page (as on a
    database whose plans are not tuned yet) would cost the whole run's time budget."""
    started = time.perf_counter()
    call()
    slow = (time.perf_counter() - started) * 1000 > 25
    return time_median(call, repeat=5 if slow else 15, warmup=0)


# The slowest cases of a set, measured again after the whole set (a pass apart): each
# keeps the lower of its two medians. A median of 15 calls of a 4 ms page spans 60 ms,
# and one burst of other work in those 60 ms (a checkpoint, a neighbour's process) made
# a case that takes 4 ms in every other run read 6-20 ms and decide the figure
# (docs/performance.md, "4 on PostgreSQL", session 13). A case that is slow is slow in
# both passes; the figure is still the slowest case's median.
SECOND_LOOK = 6


def _with_second_look(
    timings: dict[str, float], call_of: Callable[[str], Callable[[], object]]
) -> dict[str, float]:
    """``timings`` with its ``SECOND_LOOK`` slowest cases measured again (``call_of``
    gives a case's call by its label), each keeping its lower median."""
    again = sorted(timings, key=timings.__getitem__, reverse=True)[:SECOND_LOOK]
    return timings | {label: min(timings[label], _case_median(call_of(label))) for label in again}


def _slowest(timings: dict[str, float]) -> list[tuple[str, float]]:
    """The cases to print, slowest first: every one with ``BENCH_VERBOSE=1``, the
    slowest N with ``BENCH_SLOWEST=N`` (how many are over the bound, and by how much),
    none by default."""
    ranked = sorted(timings.items(), key=lambda kv: -kv[1])
    if os.environ.get("BENCH_VERBOSE"):
        return ranked
    return ranked[: int(os.environ.get("BENCH_SLOWEST") or 0)]


def _pages(lib: Library) -> list[tuple[str, dict[str, object]]]:
    total = lib.count()
    biggest = max(lib.folder_counts(), key=lambda f: f.count)
    last = max(1, (total + 24) // 25)
    last_in = max(1, (biggest.count + 24) // 25)
    undescribed = lib.count(undescribed=True)
    return [
        ("all, first", {"page": 1}),
        ("all, middle", {"page": last // 2}),
        ("all, last", {"page": last}),
        ("folder, first", {"folder": biggest.path, "page": 1}),
        ("folder, middle", {"folder": biggest.path, "page": max(1, last_in // 2)}),
        ("folder, last", {"folder": biggest.path, "page": last_in}),
        ("root only, middle", {"folder": None, "page": max(1, lib.count(folder=None) // 50)}),
        ("undescribed, middle", {"undescribed": True, "page": max(1, undescribed // 50)}),
        ("taken, first", {"sort": "taken", "page": 1}),
        ("taken, middle", {"sort": "taken", "page": last // 2}),
        ("taken, last", {"sort": "taken", "page": last}),
        (
            "folder by taken, middle",
            {"folder": biggest.path, "sort": "taken", "page": max(1, last_in // 2)},
        ),
    ]


def _query_string(kw: dict[str, object]) -> str:
    params: dict[str, object] = {}
    for key, value in kw.items():
        if key == "folder":
            params["folder"] = value or ""
        elif key == "undescribed":
            params[key] = "true" if value else "false"
        else:
            params[key] = value
    return urllib.parse.urlencode(params)


def _http_pages(server_args: tuple[str, ...], pages: list[tuple[str, str]]) -> dict[str, float]:
    """Median time of each ``(label, query string)`` over one keep-alive connection: 15
    requests after one to warm up, or 5 for a page over 5× the 15 ms bound."""
    out: dict[str, float] = {}
    with ChildServer(*server_args) as server, keepalive(server.port) as conn:
        headers = {"Authorization": f"Bearer {TOKEN}"}

        def get(path: str) -> float:
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            took = (time.perf_counter() - start) * 1000
            if resp.status != 200:
                raise RuntimeError(f"GET {path}: {resp.status} {body[:200]!r}")
            # A 200 with an empty page is an answer too: in a 1,000-image library
            # (--quick) a cursor past the last image of a rare value has nothing after it.
            json.loads(body)
            return took

        for label, query in pages:
            path = "/v3/images?" + query
            runs = 5 if get(path) > 75 else 15
            out[label] = statistics.median(get(path) for _ in range(runs))
    return out


def run(n: int = 100_000, quick: bool = False, backend: Backend | None = None) -> list[Result]:
    backend = backend or sqlite_backend(n)
    results: list[Result] = []

    walk = (
        time_median(lambda: _bare_walk(backend.walk_root), repeat=3) if backend.walk_root else None
    )
    backend.open().close()  # runs any pending migration outside the timing
    opened = time_median(lambda: backend.open().close(), repeat=3, warmup=0)
    results.append(
        bound_result(
            "4 open",
            f"open {n:,}-image library {backend.open_measure}",
            opened,
            "ms",
            2000,
            baseline=walk,
            note="baseline: bare scandir+stat walk" if walk is not None else "",
        )
    )

    with backend.open() as lib:
        pages = _pages(lib)
        part2 = listing_cases.cases(lib)
        by_label = dict(pages)
        timings = _with_second_look(
            {label: _case_median(lambda kw=kw: lib.list_images(**kw)) for label, kw in pages},
            lambda label: lambda: lib.list_images(**by_label[label]),
        )
        worst = max(timings, key=timings.__getitem__)
        floor = _keyset_floor(backend)
        results.append(
            bound_result(
                "4 list",
                f"slowest list page in the core ({worst}) of {len(pages)}",
                timings[worst],
                "ms",
                5,
                baseline=floor,
                note="baseline: raw keyset page",
            )
        )
        search = _with_second_look(
            {
                term: _case_median(lambda term=term: lib.list_images(search=term))
                for term in SEARCH_TERMS
            },
            lambda term: lambda: lib.list_images(search=term),
        )
        worst_term = max(search, key=search.__getitem__)
        hits = lib.list_images(search=worst_term).total
        results.append(
            bound_result(
                "4 search",
                f"slowest search, first page, of {len(SEARCH_TERMS)} terms "
                f"({worst_term!r}, {hits:,} hits)",
                search[worst_term],
                "ms",
                5,
                baseline=_like_baseline(backend, worst_term),
                note="baseline: LIKE scan, count + page",
            )
        )
        short = {
            t: time_median(lambda t=t: lib.list_images(search=t), repeat=5) for t in SHORT_TERMS
        }
        worst_short = max(short, key=short.__getitem__)
        results.append(
            Result(
                "4 search<3",
                f"short term, first page ({worst_short!r}: scans, no goal)",
                short[worst_short],
                "ms",
                None,
                "—",
                None,
            )
        )
        results.append(
            bound_result("4 folders", "folders()", time_median(lib.folders, repeat=21), "ms", 5)
        )
        # Issue 16: cursors at any depth, ids, meta.KEY, recursive (listing_cases.py).
        calls2 = {case.label: case.call for case in part2}
        timings2 = _with_second_look(
            {label: _case_median(call) for label, call in calls2.items()}, calls2.__getitem__
        )
        worst2 = max(timings2, key=timings2.__getitem__)
        results.append(
            bound_result(
                "4 list2",
                f"slowest cursor/ids/meta page in the core ({worst2}) of {len(part2)}",
                timings2[worst2],
                "ms",
                5,
                baseline=floor,
                note="baseline: raw keyset page",
            )
        )
        for label, ms in _slowest(timings2):
            print(f"    core {ms:7.2f} ms  {label}", flush=True)
    try:
        queries = [(label, _query_string(kw)) for label, kw in pages]
        queries += [(case.label, case.query) for case in part2]
        http_all = _http_pages(backend.server, queries)
        for label, ms in _slowest(http_all):
            print(f"    http {ms:7.2f} ms  {label}", flush=True)
        second = {case.label for case in part2}
        http = {k: v for k, v in http_all.items() if k not in second}
        http2 = {k: v for k, v in http_all.items() if k in second}
        worst_http2 = max(http2, key=http2.__getitem__)
        results.append(
            bound_result(
                "4 http2",
                f"slowest cursor/ids/meta page over HTTP ({worst_http2}) of {len(http2)}",
                http2[worst_http2],
                "ms",
                15,
                baseline=timings2[worst_http2],
                note="baseline: same page in the core",
            )
        )
        worst_http = max(http, key=http.__getitem__)
        results.append(
            bound_result(
                "4 http",
                f"slowest list page over HTTP ({worst_http}) of {len(http)}",
                http[worst_http],
                "ms",
                15,
                baseline=timings[worst_http],
                note="baseline: same page in the core",
            )
        )
    except Exception as exc:
        results.append(missing("4 http", "list pages over HTTP", f"failed: {exc!r}"))
    if not backend.tag:
        return results
    return [
        dataclasses.replace(r, target=r.target + backend.tag, name=f"{backend.name}: {r.name}")
        for r in results
    ]


def run_backends(n: int = 100_000, quick: bool = False) -> list[Result]:
    """The query figures on every database a library can live in: SQLite (the desktop
    library), then PostgreSQL (a team library) beside it, same bounds."""
    sqlite = run(n, quick)
    pg = postgres.run(n, quick)
    by_target = {r.target: r for r in pg}
    rows: list[Result] = []
    for r in sqlite:  # each PostgreSQL row beside the same measure on SQLite
        rows.append(r)
        if r.target + postgres.TAG in by_target:
            rows.append(by_target.pop(r.target + postgres.TAG))
    return rows + [r for r in pg if r.target in by_target]


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    report(run_backends(1000 if quick else 100_000, quick))
