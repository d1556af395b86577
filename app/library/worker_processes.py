"""Worker processes of our own, each with its own pipe, for ``decode_workers.WorkerPool``.

``ProcessPoolExecutor`` keeps two threads in the calling process: a manager thread that
waits on the workers' results and hands each over through a future (waking the caller in
turn), and a feeder thread that pickles each call into the shared queue. In a process
whose cores are full, each of those wake-ups costs what a decode's worth of Python does:
during a drop the manager thread took ≈ 0.58 ms of the window process's CPU a photo and
the feeder ≈ 0.13, over a decode of ≈ 50 ms in a worker (docs/performance.md, "21"). Here
the calling thread sends each task down the pipe of the worker that has fewest and reads
each result from the pipe of the worker that has it, in the thread that wanted it.

Results are handed out in the order of the items, but read as soon as they are there:
read only at its turn, a worker's next answer waited in its pipe while the run waited
for another worker's, and that worker, its queue sent ahead and done, waited for the
run to send more. In a run of 2 MP photos (≈ 8 ms a photo) every worker found its
queue empty about one task in three, and both cores were idle ≈ 8 % of the import
(docs/performance.md, "5", session 14).

A worker takes its tasks in the order sent and answers each once, in that order: the
result, the error it raised, or (after a cancel) that it was dropped without starting.
Before starting a task it reads everything already sent, so a cancel sent after queued
tasks drops them before they start. It ends at a ``None``, or when its pipe closes (the
library process gone; ``decode_workers._start_worker`` also watches for that mid-task)."""

from __future__ import annotations

import contextlib
import multiprocessing
import select
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any, Final, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_CANCEL: Final = "cancel"  # drop every task received and not started
_DONE: Final = 0
_FAILED: Final = 1
_DROPPED: Final = 2


class WorkerDied(BrokenProcessPool):
    """A worker ended without answering (killed, crashed): the run stops with this, as a
    ``BrokenProcessPool`` (what the executor raised), and the pool takes no more work."""


class _RemoteTraceback(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


class _Failure:
    """An exception a task raised, with its traceback as text (a traceback is not sent)."""

    def __init__(self, exc: BaseException):
        self.exc = exc
        self.text = "".join(traceback.format_exception(exc))

    def raise_here(self) -> None:
        self.exc.__cause__ = _RemoteTraceback(f'\n"""\n{self.text}"""')
        raise self.exc


# --- in a worker --------------------------------------------------------------------------


def serve(conn: Connection, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    """A worker's life (the target of its process)."""
    initializer(*initargs)
    tasks: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
    try:
        while True:
            while not tasks or conn.poll():
                message = conn.recv()
                if message is None:
                    return
                if message == _CANCEL:
                    for _task in tasks:
                        conn.send((_DROPPED, None))
                    tasks.clear()
                else:
                    tasks.append(message)
            fn, args = tasks.popleft()
            try:
                reply: tuple[int, Any] = (_DONE, fn(*args))
            except BaseException as exc:
                reply = (_FAILED, _Failure(exc))
            _send(conn, reply)
    except (EOFError, OSError):
        return  # the library process closed its end, or is gone


def _send(conn: Connection, reply: tuple[int, Any]) -> None:
    try:
        conn.send(reply)  # pickled whole before a byte is written
    except (EOFError, OSError):
        raise
    except Exception as exc:  # a result or an error that does not pickle: said as text
        what = reply[1].exc if isinstance(reply[1], _Failure) else reply[1]
        failed = RuntimeError(f"A worker's answer could not be sent back ({exc}): {what!r}")
        conn.send((_FAILED, _Failure(failed)))


# --- in the calling process ---------------------------------------------------------------


class _Task(Generic[T]):
    __slots__ = ("answer", "held", "item")

    def __init__(self, item: T, held: AbstractContextManager[object] | None):
        self.item = item
        self.held = held
        self.answer: bytes | None = None  # pickled, once read from the worker's pipe

    def release(self) -> None:
        held, self.held = self.held, None
        if held is not None:
            held.__exit__(None, None, None)


class _Worker:
    __slots__ = ("conn", "fd", "process", "sent")

    def __init__(self, process: BaseProcess, conn: Connection):
        self.process = process
        self.conn = conn
        self.sent: deque[_Task[Any]] = deque()  # answers come back in this order
        self.fd = conn.fileno()

    def died(self, doing: object) -> WorkerDied:
        self.process.join(1)  # reaped just after its pipe closed; not waited for long
        code = self.process.exitcode
        how = "was killed" if code is not None and code < 0 else "ended"
        return WorkerDied(
            f"A decode worker (pid {self.process.pid}) {how} (exit code {code}) while "
            f"working on {doing!r}; the run stopped there."
        )

    def answer(self) -> bytes:
        """The next answer, pickled, waiting for it; ``EOFError`` if the worker ended
        first. Unpickled by the caller once it has taken the task off ``sent``: an
        answer that does not unpickle is still that task's, and the next answer the next
        task's."""
        _ready([self])
        return self.read()

    def read(self) -> bytes:
        """The answer there to read once ``_ready`` gave this worker; ``EOFError`` if it
        was its end instead."""
        if not self.conn.poll():  # its sentinel alone: it ended
            raise EOFError
        return self.conn.recv_bytes()


class ProcessPool:
    """``workers`` processes started from ``context``, each running ``initializer(*initargs)``
    first. One run at a time, from one thread; ``close`` (or the ``with`` block's end) stops
    them."""

    def __init__(
        self,
        workers: int,
        context: multiprocessing.context.BaseContext,
        initializer: Callable[..., None],
        initargs: tuple[Any, ...],
    ):
        self._workers: list[_Worker] = []
        self._window: deque[_Task[Any]] = deque()  # the run's tasks not handed out, in order
        self._broken: WorkerDied | None = None
        self._unused: Callable[[Any], None] = lambda _result: None
        self._running = False
        try:
            for _ in range(workers):
                mine, theirs = context.Pipe()
                process = context.Process(  # type: ignore[attr-defined]
                    target=serve, args=(theirs, initializer, initargs), daemon=True
                )
                process.start()
                theirs.close()  # the worker's alone now: it closes when the worker ends
                self._workers.append(_Worker(process, mine))
        except BaseException:
            self.close()
            raise

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Work not started is dropped; a task being run finishes (and its result goes to
        the run's ``unused``). Waits for the workers to end."""
        self._drop_outstanding()
        for w in self._workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in self._workers:
            w.process.join()
            w.conn.close()
        self._workers = []

    def run(
        self,
        fn: Callable[..., R],
        items: Iterable[T],
        args_of: Callable[[T], tuple[Any, ...]],
        hold: Callable[[T], AbstractContextManager[object]],
        ahead_per_worker: int,
        stop: Callable[[], bool],
        unused: Callable[[R], None],
    ) -> Iterator[tuple[T, R]]:
        """``fn(*args_of(item))`` in the workers, results in the order of ``items``. Each
        worker has at most ``ahead_per_worker`` tasks it has not answered, and the run
        holds at most twice the workers' share answered and not handed out yet (a slow
        item's turn does not stop the others, for a while). Each item's ``hold(item)``
        is entered when it is sent and left when its answer is read. After ``stop()``
        nothing more is sent; what was sent is still handed out. ``unused``: called with
        each result made but not handed out (the caller left the loop, an error,
        ``close``). A worker's error is raised here at its item's turn; ``WorkerDied``
        as soon as a worker ends without answering."""
        if self._running:
            raise RuntimeError("one run at a time")
        self._running = True
        self._unused = unused
        window: deque[_Task[T]] = deque()
        self._window = window
        most = 2 * len(self._workers) * ahead_per_worker
        queue = iter(items)

        def refill() -> None:
            while len(window) < most and not stop():
                if self._broken is not None:
                    raise self._broken
                if not self._workers:
                    raise RuntimeError("the pool is closed")
                worker = min(self._workers, key=lambda w: len(w.sent))
                if len(worker.sent) >= ahead_per_worker:
                    return
                try:
                    item = next(queue)
                except StopIteration:
                    return
                window.append(self._send(worker, fn, item, args_of, hold))

        try:
            while True:
                refill()
                if not window:
                    return
                task = window[0]
                while task.answer is None:
                    self._read_some()
                    refill()  # the workers that answered get their next task at once
                window.popleft()
                yield task.item, self._take(task)
        finally:
            self._drop_outstanding()
            self._running = False

    def _send(
        self,
        worker: _Worker,
        fn: Callable[..., Any],
        item: T,
        args_of: Callable[[T], tuple[Any, ...]],
        hold: Callable[[T], AbstractContextManager[object]],
    ) -> _Task[T]:
        held = hold(item)
        held.__enter__()
        task = _Task(item, held)
        try:
            try:
                worker.conn.send((fn, args_of(item)))
            except OSError:
                self._broken = worker.died(item)
                raise self._broken from None
        except BaseException:
            task.release()
            raise
        worker.sent.append(task)
        return task

    def _read_some(self) -> None:
        """Reads every answer that is there, waiting for one at least: each is its
        worker's first unanswered task's, whose hold is left then."""
        busy = [w for w in self._workers if w.sent]
        if not busy:
            raise RuntimeError("the pool was closed during the run")
        for worker in _ready(busy):
            try:
                answer = worker.read()
            except (EOFError, OSError):
                self._broken = worker.died(worker.sent[0].item)
                raise self._broken from None  # its tasks are released by _drop_outstanding
            # Taken off only once its answer is read: a run interrupted while it waits
            # (KeyboardInterrupt) still has its answer read and dropped with the others.
            task = worker.sent.popleft()
            task.answer = answer
            task.release()

    def _take(self, task: _Task[T]) -> Any:
        """The result of ``task`` (answered), or the error it raised."""
        answer, task.answer = task.answer, None
        assert answer is not None
        kind, value = ForkingPickler.loads(answer)
        if kind == _FAILED:
            value.raise_here()
        return value

    def _drop_outstanding(self) -> None:
        """Every task sent and not handed out: those not started are dropped, those
        running waited for, and their results given to ``unused``."""
        read = [t.answer for t in self._window if t.answer is not None]
        self._window.clear()
        busy = [w for w in self._workers if w.sent]
        for w in busy:
            with contextlib.suppress(OSError):
                w.conn.send(_CANCEL)
        for answer in read:  # answered before: given while the workers stop
            self._give_unused(answer)
        for w in busy:
            while w.sent:
                try:
                    answer = w.answer()
                except (EOFError, OSError):
                    for left in w.sent:
                        left.release()
                    if self._broken is None:
                        self._broken = w.died(w.sent[0].item)
                    w.sent.clear()
                    break
                w.sent.popleft().release()
                self._give_unused(answer)

    def _give_unused(self, answer: bytes) -> None:
        """A result made and not handed out, to the run's ``unused``."""
        try:
            kind, value = ForkingPickler.loads(answer)
        except Exception:
            return  # an answer that did not unpickle: nothing left to clean
        if kind == _DONE:
            with contextlib.suppress(Exception):
                self._unused(value)


def _ready(busy: list[_Worker]) -> list[_Worker]:
    """The workers of ``busy`` with an answer to read or that ended, waiting for one.
    The process's sentinel as well as the pipe: its end of the pipe could outlive it in
    a process forked meanwhile without an exec. Polled afresh each time (a few
    descriptors): a worker with nothing sent is left out, so one that ended idle does
    not wake the run (its next task's send finds it)."""
    if not hasattr(select, "poll"):
        there = wait([c for w in busy for c in (w.conn, w.process.sentinel)])
        return [w for w in busy if w.conn in there or w.process.sentinel in there]
    poller = select.poll()
    for w in busy:
        poller.register(w.fd, select.POLLIN)
        poller.register(w.process.sentinel, select.POLLIN)
    fds = {fd for fd, _event in poller.poll()}
    return [w for w in busy if w.fd in fds or w.process.sentinel in fds]
