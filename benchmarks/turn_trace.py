"""What the GUI thread did in each turn of its event loop: a diagnostic for the probes
(``IMAGESHELF_PROBE_TURNS=FILE`` in ``adopt_probe``), never part of a measured figure
(it slows every event down).

``TracingApp`` is the ``QApplication`` with ``notify`` overridden: every event the GUI
thread dispatches from its loop (a timer, a queued signal, a paint, a posted layout
request) is timed whole, C++ work included, with the thread's own CPU time beside the
wall time. Inside each, a profile hook on the GUI thread notes the Python functions Qt
called directly (the slots, the delegate's ``paint``, the model's ``data``), summed by
name. ``report(start, end)`` says what filled a stretch of time: the events that began
in it, longest first."""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication


@dataclass
class Turn:
    kind: str  # the event's type and its receiver
    start: float
    wall: float = 0.0
    cpu: float = 0.0
    calls: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))


def _receiver(obj: QObject) -> str:
    name = obj.objectName()
    return f"{type(obj).__name__}({name})" if name else type(obj).__name__


class TracingApp(QApplication):
    def __init__(self, argv: list[str]) -> None:
        super().__init__(argv)
        self.turns: list[Turn] = []
        self._depth = 0
        self._current: Turn | None = None
        self._open: dict[int, tuple[str, float]] = {}
        self._notify_code = TracingApp.notify.__code__
        # Every event's CPU by what it was (its kind and the slot that took longest):
        # count, total and longest CPU, longest wall.
        self.summary: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
        sys.setprofile(self._profile)  # this thread only: the GUI thread

    def notify(self, receiver: QObject, event: QEvent) -> bool:  # type: ignore[override]
        self._depth += 1
        if self._depth > 1:
            # Inside an event: only paints are timed (which widgets a repaint drew).
            turn = self._current
            painted = turn is not None and event.type() == QEvent.Type.Paint
            start = time.perf_counter() if painted else 0.0
            try:
                return super().notify(receiver, event)
            finally:
                self._depth -= 1
                if painted and turn is not None:
                    slot = turn.calls[f"paint {_receiver(receiver)}"]
                    slot[0] += 1
                    slot[1] += time.perf_counter() - start
        try:
            kind = f"{event.type().name} → {_receiver(receiver)}"
        except Exception:  # a type Qt's enum does not name
            kind = f"{int(event.type())} → {_receiver(receiver)}"
        turn = Turn(kind, time.perf_counter())
        self._current = turn
        cpu = time.thread_time()
        try:
            return super().notify(receiver, event)
        finally:
            turn.wall = time.perf_counter() - turn.start
            turn.cpu = time.thread_time() - cpu
            self._current = None  # what runs from here is the tracer's own
            self.turns.append(turn)
            top = max(turn.calls.items(), key=lambda kv: kv[1][1], default=("", [0, 0.0]))[0]
            entry = self.summary[f"{kind} [{top}]" if top else kind]
            entry[0] += 1
            entry[1] += turn.cpu
            entry[2] = max(entry[2], turn.cpu)
            entry[3] = max(entry[3], turn.wall)
            self._depth -= 1

    def _profile(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event not in ("call", "return") or self._current is None:
            return
        back = frame.f_back
        if back is None or back.f_code is not self._notify_code:
            return  # only what Qt called directly inside an event
        if event == "call":
            self._open[id(frame)] = (frame.f_code.co_qualname, time.perf_counter())
        else:
            opened = self._open.pop(id(frame), None)
            if opened is not None:
                slot = self._current.calls[opened[0]]
                slot[0] += 1
                slot[1] += time.perf_counter() - opened[1]

    def report(self, start: float, end: float, limit: int = 8) -> str:
        """The events that began between ``start`` and ``end``, longest first."""
        inside = [t for t in self.turns if start <= t.start < end]
        inside.sort(key=lambda t: t.wall, reverse=True)
        kinds = Counter(t.kind for t in inside)
        lines = [
            f"  {len(inside)} events, {sum(t.wall for t in inside) * 1000:.1f} ms of them "
            f"({sum(t.cpu for t in inside) * 1000:.1f} ms CPU); most: {kinds.most_common(3)}"
        ]
        for t in inside[:limit]:
            lines.append(f"  {t.wall * 1000:6.1f} ms (cpu {t.cpu * 1000:5.1f}) {t.kind}")
            top = sorted(t.calls.items(), key=lambda kv: kv[1][1], reverse=True)[:4]
            for name, (count, spent) in top:
                lines.append(f"        {spent * 1000:6.1f} ms  {count:4d}× {name}")
        return "\n".join(lines)

    def summary_text(self, limit: int = 25) -> str:
        """Every kind of event seen, by its longest CPU time."""
        rows = sorted(self.summary.items(), key=lambda kv: kv[1][2], reverse=True)[:limit]
        lines = ["longest cpu  total cpu  count  longest wall  event [its longest slot]"]
        for kind, (count, total, cpu, wall) in rows:
            figures = f"{cpu * 1000:8.1f} ms {total * 1000:8.0f} ms {count:6.0f}"
            lines.append(f"{figures} {wall * 1000:9.1f} ms  {kind}")
        return "\n".join(lines)

    def forget_before(self, moment: float) -> None:
        """Drops the events that began before ``moment`` (memory stays bounded)."""
        self.turns = [t for t in self.turns if t.start >= moment]
