"""Target 7b: a cached transform's rate against an original's of the same bytes, with
the server's CPU per request of both beside it (``bench_transforms.py`` sets them up)."""

from __future__ import annotations

import statistics

from .common import Result, ratio_result
from .load import ChildServer, LoadResult, best_of_alternated, load, with_cpu

# 7b's rounds. Each side's rate moves between 5,000 and 8,000 req/s from one round to
# the next on the machine of sessions 10-13 (other work on the 2 cores, the server's one
# loop thread the bottleneck), for seconds at a time: the best of 3 rounds of 4 s read
# 0.69× to 1.09× for the same code (sessions 11-12), of 5 0.89×. Many short rounds in
# the same 40 s give each side more chances at the minutes' free cores than a few long
# ones (session 13; docs/performance.md, "Transforms", 7b).
ROUNDS_7B, SECONDS_7B = 20, 1.0


def cached_vs_original(
    app: ChildServer, cached_path: str, original_path: str, quick: bool
) -> list[Result]:
    """7b and 7b cpu: ``cached_path`` (a transform already made) against
    ``original_path`` (an original of the very same bytes), alternated rounds of wrk."""
    rounds = ROUNDS_7B // 2 if quick else ROUNDS_7B
    cached, original = app.url(cached_path), app.url(original_path)
    for url in (cached, original):
        load(url, seconds=1)
    every: dict[str, list[LoadResult]] = {}
    best = best_of_alternated(
        {
            "cached": with_cpu(app, lambda: load(cached, seconds=SECONDS_7B)),
            "original": with_cpu(app, lambda: load(original, seconds=SECONDS_7B)),
        },
        rounds=rounds,
        every=every,
        # Which side went first seemed to matter in session 13's runs (the cached side's
        # rate over the original's beside it: median 0.79-0.93× going first, 0.90-1.31×
        # second, in 6 of 7 comparisons), so neither always goes first.
        turn_order=True,
    )
    pairs = [c.rps / o.rps for c, o in zip(every["cached"], every["original"], strict=True)]
    c_cpu, o_cpu = best["cached"].cpu_ms, best["original"].cpu_ms
    assert c_cpu is not None and o_cpu is not None
    return [
        ratio_result(
            "7b",
            "cached 800 px WebP vs an original of the same size",
            best["cached"].rps,
            best["original"].rps,
            "req/s",
            at_least=0.9,
            note=f"{best['cached'].tool}, 32 conns, best of {rounds} alternated "
            f"{SECONDS_7B:g} s rounds (A B, B A, …), errors {best['cached'].errors}; rates "
            + "; ".join(
                f"{name} {min(r.rps for r in rs):,.0f}–{max(r.rps for r in rs):,.0f}"
                for name, rs in every.items()
            )
            + f"; each round's ratio {min(pairs):.2f}–{max(pairs):.2f}×, median "
            f"{statistics.median(pairs):.2f}×",
        ),
        # Not judged: both sides are the server's own answers on its loop thread, and a
        # request's CPU there follows the rate (fewer requests a wake-up cost more each),
        # so this ratio moves with the same rounds (0.89–1.27× over windows of 20 rounds
        # of one series at load 9, session 13). It says whether a gap is the code's.
        Result(
            "7b cpu",
            "cached 800 px WebP vs the original, server CPU per request (least of the "
            f"rounds; {best['cached'].requests:,} / {best['original'].requests:,} requests)",
            c_cpu * 1000,
            "µs",
            o_cpu * 1000,
            "—",
            None,
            "median of the rounds "
            f"{statistics.median(r.cpu_ms or 0 for r in every['cached']) * 1000:.0f} / "
            f"{statistics.median(r.cpu_ms or 0 for r in every['original']) * 1000:.0f} µs",
        ),
    ]
