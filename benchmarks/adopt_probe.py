"""The window while a photo folder is adopted or a card's worth of photos is dropped on
it (issue 21), launched as a person launches it and measured from inside (offscreen):

    python -m benchmarks.adopt_probe adopt LIBRARY_DIR LAUNCHED_AT
    python -m benchmarks.adopt_probe drop  LIBRARY_DIR LAUNCHED_AT PHOTO_DIR
    python -m benchmarks.adopt_probe drop-still LIBRARY_DIR LAUNCHED_AT PHOTO_DIR

``adopt``: ``LIBRARY_DIR`` is a folder of photos never opened as a library. The window is
opened as ``imageshelf`` opens it (no reconcile first, the window shown, then the server
and the reconcile started after the first paint); ``first_paint_s`` is from the parent's
``time.time()`` just before it started this process to the first paint event of the
grid. Once rows arrive, the grid is scrolled programmatically, down a screen every 30 ms
and back to the top at the end, while a 5 ms heartbeat timer records the longest gap
between its ticks (the event loop blocked), until the adoption ends.

``drop``: an empty library; once the window's services have started (``SETTLE_MS`` after
them: a person's drop comes seconds after the window shows, when the decode workers'
fork server is up), every photo of ``PHOTO_DIR`` is dropped on the grid
as one ``QDropEvent`` with file URLs (what a drag from a file manager delivers); the
import runs through the real path (``files_dropped`` → ``ImportJob``) while the heartbeat
and the scrolling run as above. ``import_s`` is from the drop to ``import_finished``.
``drop-still``: the same with the grid left where it is (the heartbeat still runs): the
import's rate without the cost of painting a scrolled grid 33 times a second.

Prints one JSON line of figures. With ``IMAGESHELF_PROBE_STALLS=FILE`` set, every time the
event loop is blocked past ``STALL_MS`` the stacks of all threads are written to ``FILE``
(``faulthandler``'s watchdog, a C thread that needs no GIL, re-armed at each heartbeat):
where the GUI thread was when it stopped beating, and what the others were doing."""

from __future__ import annotations

import cProfile
import faulthandler
import gc
import json
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools

from PySide6.QtCore import QEvent, QMimeData, QObject, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QWidget

from .gui_probe import app_imported_at, open_window

HEARTBEAT_MS = 5
SCROLL_EVERY_MS = 30
TIME_LIMIT_S = 600.0
STALL_MS = 35
# Every 0.5 s the threads' CPU is sampled, so threads that end (an import's) are counted.
THREAD_SAMPLE_BEATS = 100
# A drop comes this long after the window's services start (``start_work``).
SETTLE_MS = 1000


class PaintWatch(QObject):
    """Installed on the application: the first paint of any widget of ``window`` (an
    empty library shows its empty state, not the grid)."""

    def __init__(self, window: QWidget, on_paint) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.window, self.on_paint = window, on_paint

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and isinstance(obj, QWidget)
            and obj.window() is self.window
        ):
            self.on_paint()
        return False


def thread_cpu() -> dict[int, tuple[str, float]]:
    """Every live thread of this process: its name and CPU seconds so far (schedstat's
    nanoseconds on a CPU, not the 10 ms ticks of ``stat``)."""
    out: dict[int, tuple[str, float]] = {}
    # Python's own threads by their Python names (3.11 gives the system none of them).
    named = {t.native_id: t.name.rstrip("_0123456789") for t in threading.enumerate()}
    for tid in os.listdir("/proc/self/task"):
        try:
            name = named.get(int(tid)) or Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            ns = int(Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # it ended meanwhile
        out[int(tid)] = (name, ns / 1e9)
    return out


def machine_idle() -> tuple[int, int]:
    """The machine's idle ticks and all its ticks so far (``/proc/stat``'s first line)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return ticks[3], sum(ticks)


def threads_spent(
    before: dict[int, tuple[str, float]], seen: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds each kind of thread spent since ``before`` (threads by name, the GUI
    thread as "gui"): the live ones now, the ended ones as last ``seen`` (sampled every
    ``THREAD_SAMPLE_BEATS`` heartbeats); "ended" is then what no sample saw."""
    spent: dict[str, float] = {}
    for tid, (name, cpu) in {**seen, **thread_cpu()}.items():
        key = "gui" if tid == os.getpid() else name
        spent[key] = spent.get(key, 0.0) + cpu - before.get(tid, (name, 0.0))[1]
    return {k: round(v, 3) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])}


class PaintCount(QObject):
    """Installed on the grid's viewport: how many times the grid was painted."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def run(kind: str, library_dir: Path, launched_at: float, photo_dir: Path | None) -> dict:  # type: ignore[type-arg]
    result: dict[str, float] = {"imported_s": app_imported_at() - launched_at}
    turns_path = os.environ.get("IMAGESHELF_PROBE_TURNS")
    tracer = None
    if turns_path:  # diagnostics: what each long gap held (slows every event down)
        from .turn_trace import TracingApp

        tracer = TracingApp(sys.argv[:1])
        turns_file = open(turns_path, "w")  # noqa: SIM115 - open till exit
    app, library, server, win = open_window(library_dir)
    grid, model = win.grid, win.model
    beats: list[float] = []
    # The GUI thread's own CPU time at each beat: what it did between two beats, apart
    # from waiting (for the GIL, or for a core on a loaded machine).
    busy: list[float] = []
    gc_pauses: list[float] = []
    gc_at: list[float] = []  # when each began, in s after the work started
    gc_started = [0.0]

    def on_gc(phase: str, _info: dict) -> None:  # type: ignore[type-arg]
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif gc_started[0]:
            gc_pauses.append(time.perf_counter() - gc_started[0])
            gc_at.append(gc_started[0] - work_started[0])

    started = [0.0]
    work_started = [0.0]
    # The window process's CPU while the work runs (every thread of it: the GUI thread,
    # the import's or reconcile's, the thumbnail loaders; not the decode workers, which
    # are processes of their own), the GUI thread's alone, and the grid's paints.
    cpu_started = [0.0, 0.0]
    threads_started: dict[int, tuple[str, float]] = {}
    threads_seen: dict[int, tuple[str, float]] = {}
    idle_started = [0, 0]
    paints = PaintCount()
    grid.viewport().installEventFilter(paints)

    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    # The GUI thread's time ready to run but waiting for a core (Linux's schedstat): the
    # part of a gap the machine's load decides. What is neither its own CPU nor this is
    # time it was blocked: waiting for the GIL (or asleep till the next timer).
    queued: list[float] = []
    try:
        schedstat: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except OSError:
        schedstat = None

    def run_queue_wait() -> float:
        if schedstat is None:
            return 0.0
        return int(os.pread(schedstat, 100, 0).split()[1]) / 1e9

    stalls_path = os.environ.get("IMAGESHELF_PROBE_STALLS")
    stalls = open(stalls_path, "w") if stalls_path else None  # noqa: SIM115 - open till exit

    def beat() -> None:
        beats.append(time.perf_counter())
        busy.append(time.thread_time())
        queued.append(run_queue_wait())
        if len(beats) % THREAD_SAMPLE_BEATS == 0:
            threads_seen.update(thread_cpu())
        if stalls is not None:
            gap_ms = (beats[-1] - beats[-2]) * 1000 if len(beats) > 1 else 0.0
            if gap_ms > STALL_MS:
                stalls.write(f"=== that stall ended after {gap_ms:.0f} ms\n\n")
                stalls.flush()
            faulthandler.dump_traceback_later(STALL_MS / 1000, file=stalls)
        if tracer is not None and len(beats) > 1:
            gap_ms = (beats[-1] - beats[-2]) * 1000
            if gap_ms > STALL_MS:
                at = beats[-1] - work_started[0]
                turns_file.write(f"=== gap {gap_ms:.0f} ms ending at {at:.2f} s\n")
                turns_file.write(tracer.report(beats[-2], beats[-1]) + "\n")
                turns_file.flush()
            if len(beats) % 200 == 0:
                tracer.forget_before(beats[-2])

    heartbeat.timeout.connect(beat)
    scroller = QTimer()
    scroller.setInterval(SCROLL_EVERY_MS)

    def scroll_step() -> None:
        bar = grid.verticalScrollBar()
        bar.setValue(0 if bar.value() >= bar.maximum() else bar.value() + bar.pageStep())

    scroller.timeout.connect(scroll_step)

    def finish(ok: bool) -> None:
        if "work_s" in result:
            return
        result["work_s"] = time.perf_counter() - work_started[0]
        idle, ticks = machine_idle()
        # The whole machine's idle share during the work: near 0 when the pipeline keeps
        # every core busy, so what the rate lacks is CPU spent, not cores left waiting.
        result["idle_frac"] = (idle - idle_started[0]) / max(1, ticks - idle_started[1])
        result["window_cpu_s"] = time.process_time() - cpu_started[0]
        result["gui_cpu_s"] = time.thread_time() - cpu_started[1]
        result["grid_paints"] = paints.count
        threads = threads_spent(threads_started, threads_seen)
        threads["ended"] = round(result["window_cpu_s"] - sum(threads.values()), 3)
        result["threads_cpu_s"] = threads  # type: ignore[assignment]
        result["complete"] = 1.0 if ok else 0.0
        heartbeat.stop()
        scroller.stop()
        faulthandler.cancel_dump_traceback_later()
        if profiler is not None and profile_path:
            profiler.disable()
            profiler.dump_stats(profile_path)
        gaps = [b - a for a, b in itertools.pairwise(beats)]
        result["longest_gap_ms"] = max(gaps) * 1000 if gaps else float("nan")
        result["heartbeats"] = len(beats)
        spent = [b - a for a, b in itertools.pairwise(busy)]
        waited = [b - a for a, b in itertools.pairwise(queued)]
        if gaps:
            # The five longest gaps: when (s after the work started), how long, how much
            # of it the GUI thread itself spent on the CPU, and how long it waited for a
            # core (the rest it was blocked: the GIL, or asleep till the next timer).
            worst = sorted(range(len(gaps)), key=gaps.__getitem__)[-5:][::-1]
            result["worst_gaps"] = [  # type: ignore[assignment]
                (
                    round(beats[i] - work_started[0], 2),
                    round(gaps[i] * 1000),
                    round(spent[i] * 1000),
                    round(waited[i] * 1000),
                )
                for i in worst
            ]
        result["longest_busy_ms"] = max(spent) * 1000 if spent else float("nan")
        if gaps:
            # Beside the single longest (which the machine's load decides as much as the
            # window): how often the loop stalled, and the GUI thread's own share.
            ranked, work = sorted(gaps), sorted(spent)
            result["gap_p99_ms"] = ranked[int(len(ranked) * 0.99)] * 1000
            result["gaps_over_50ms"] = sum(g > 0.05 for g in gaps)
            result["busy_p99_ms"] = work[int(len(work) * 0.99)] * 1000
        result["longest_gc_ms"] = max(gc_pauses, default=0.0) * 1000
        if gc_pauses:
            result["longest_gc_at_s"] = round(gc_at[gc_pauses.index(max(gc_pauses))], 2)
            result["gc_count"] = len(gc_pauses)
        gc.callbacks.remove(on_gc)
        result["rows"] = float(library.count())
        if tracer is not None:
            turns_file.write("\n=== every event, by its longest CPU\n")
            turns_file.write(tracer.summary_text() + "\n")
            turns_file.close()
        QTimer.singleShot(0, app.quit)

    profile_path = os.environ.get("IMAGESHELF_PROBE_PROFILE")
    # The GUI thread's calls, timed by its own CPU: on a loaded machine wall time is mostly
    # waiting for a core or for the GIL, which says nothing about what a call costs.
    profiler = cProfile.Profile(time.thread_time) if profile_path else None

    def start_watching() -> None:
        if profiler is not None:
            profiler.enable()
        idle_started[:] = machine_idle()
        beats.clear()
        busy.clear()
        queued.clear()
        gc.callbacks.append(on_gc)
        work_started[0] = time.perf_counter()
        cpu_started[:] = [time.process_time(), time.thread_time()]
        threads_started.update(thread_cpu())
        paints.count = 0
        heartbeat.start()
        if kind != "drop-still":
            scroller.start()

    def first_paint() -> None:
        if "first_paint_s" in result:
            return
        result["first_paint_s"] = time.time() - launched_at
        app.removeEventFilter(watch)
        started[0] = time.perf_counter()
        QTimer.singleShot(0, start_work)

    def start_work() -> None:
        # What the window's ``launch.start_services`` starts after the first paint.
        from imageshelf.app.library import decode_workers
        from imageshelf.app.ui import gc_pauses

        server.start()
        gc_pauses.settle_start()
        decode_workers.start_ahead()
        QTimer.singleShot(int(TIME_LIMIT_S * 1000), lambda: finish(False))
        if kind == "adopt":
            job = win.start_reconcile()
            job.finished.connect(lambda _r: finish(True))
            job.failed.connect(lambda _m: finish(False))
            start_watching()
        else:
            # A person drops photos on a window that has finished starting, not within a
            # millisecond of its first paint: the drop comes once the services started
            # above are up (the fork server's interpreter and imports, ≈ 0.3 s quiet).
            QTimer.singleShot(SETTLE_MS, drop)

    def drop() -> None:
        assert photo_dir is not None
        win.import_finished.connect(lambda _report: finish(True))
        mime = QMimeData()
        paths = sorted(photo_dir.glob("*.jpg"))
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        event = QDropEvent(
            QPointF(grid.viewport().rect().center()),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        start_watching()
        # The grid's drop handler, as a drag from a file manager ends on its viewport
        # (tests/desktop does real XDND drags; here only the import path matters).
        grid.dropEvent(event)
        result["dropped"] = float(len(paths))

    watch = PaintWatch(win, first_paint)
    app.installEventFilter(watch)
    win.show()
    app.exec()
    assert model is not None
    server.stop()
    library.close()
    return result


def main(argv: list[str]) -> None:
    kind, library_dir, launched_at = argv[0], Path(argv[1]), float(argv[2])
    photo_dir = Path(argv[3]) if len(argv) > 3 else None
    figures = run(kind, library_dir, launched_at, photo_dir)
    print("RESULT " + json.dumps(figures), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
