"""Waiting for a server child to go quiet: a measure of quiet latency (a quiet window of
7c, the quiet half after 11a's attack) starts once the server and its workers have gone
idle, not while they finish what a load before it left them."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time used so far by ``pid`` and all its descendants (the transform workers)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = [
                c
                for task in Path(f"/proc/{current}/task").iterdir()
                for c in (task / "children").read_text().split()
            ]
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        pending.extend(int(c) for c in children)
    return total


# A loaded round's clients stop asking at its end, but the server goes on making what
# they had asked (into the cache, for a retry): up to its whole queue, seconds of work.
# A quiet window is the quiet client with no load, so it starts once the server and its
# workers have gone quiet (below 5% of a CPU for a quarter of a second); until session
# 8 the window after a loaded round began while that work went on, and its p99 was
# sometimes the loaded one's (rounds of 0.21× and 0.54× in the quiet run of 59fa5dc).
_SETTLED_SHARE = 0.05
_SETTLE_STEP_S = 0.25
_SETTLE_LIMIT_S = 30.0


def settle(pid: int) -> float:
    """Waits until ``pid`` and its workers are idle; returns the seconds it took."""
    started = time.monotonic()
    used = _tree_cpu_seconds(pid)
    while time.monotonic() - started < _SETTLE_LIMIT_S:
        time.sleep(_SETTLE_STEP_S)  # a sampling interval of /proc, not a wait for a signal
        now = _tree_cpu_seconds(pid)
        if now - used < _SETTLED_SHARE * _SETTLE_STEP_S:
            break
        used = now
    return time.monotonic() - started
