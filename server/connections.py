"""The connection budget: what one client may cost the waitress server.

waitress on its own has no deadline for a request head (``channel_timeout`` counts only
idle time, and a byte a second is not idle), counts every open socket against
``connection_limit`` (98 trickling connections locked every client out) and blocks a
worker thread while a client does not read its answers (8 such clients stopped all 8
workers). Here:

- a request's head must arrive within ``head_seconds`` of its first byte, its body
  within ``body_seconds`` plus its length at ``body_min_rate``; past that the connection
  gets a JSON ``408`` (best effort) and is closed;
- output a client leaves unread for ``output_stall_seconds`` closes its connection;
- no worker ever waits for a client to read: the next pipelined request of a connection
  whose unsent output is above waitress's high-water mark is not started until the
  loop thread has sent it down (the worker is free for others meanwhile);
- one address holds at most ``per_address`` connections, the server ``total``: a new
  connection past either makes room by closing the stalest connection that is not
  running a request (the longest-unfinished request head, else the longest idle), or,
  when every one is busy, is itself closed. A normal client, whose heads arrive at
  once, keeps being served while hundreds of slow connections come and go.

The checks run on waitress's loop thread, in ``maintenance`` (every second) and on
accept; the classes depend on waitress 3.0's channel internals (pinned in pyproject).

Answers ready at once are made on the loop thread itself (``LoopAnswers``, given by the
runner: ``proxy_lane.RememberedLane``): a request the loop has just read, when nothing
of its connection is running, and whose answer needs nothing that may wait, runs on the
loop thread after the read rather than in a thread of the pool — no thread woken, no
trigger pulled to wake the loop again — and its answer is sent at once."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Final, Protocol

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import WSGITask

from .event_loop import WatchedMap

log = logging.getLogger(__name__)

# The connection a worker thread is serving: when it pulls the trigger, the loop looks
# again at that connection alone (event_loop.py), not at every open one.
_serving = threading.local()
# On the loop thread: ``reading``, the connection whose input it is taking in (a request
# completed then may be answered here); ``answering``, while it runs a request itself.
_loop = threading.local()


class LoopAnswers(Protocol):
    """What decides which requests the loop thread answers itself (see the docstring)."""

    def may_answer(self, method: str, path: str) -> bool:
        """A first look at the request line, before its WSGI environment is made."""
        ...

    def prepare(self, environ: dict[str, Any]) -> bool:
        """Whether the answer is ready with nothing that may wait; if so it is left in
        ``environ`` for the application to send."""
        ...

    def release(self, environ: dict[str, Any]) -> None:
        """After the request ran: what ``prepare`` left that was not used."""
        ...


_TIMEOUT_BODY: Final = json.dumps(
    {
        "error": {
            "code": "request_timeout",
            "message": "The request did not arrive in time; the connection is closed.",
        }
    },
    separators=(",", ":"),
).encode()
_TIMEOUT_RESPONSE: Final = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
    b"Cache-Control: no-store\r\nConnection: close\r\n"
    b"Content-Length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY
)


@dataclass(frozen=True)
class ConnectionLimits:
    head_seconds: float = 10.0
    body_seconds: float = 30.0
    body_min_rate: int = 32 * 1024  # bytes a second a body may take on top
    output_stall_seconds: float = 20.0
    idle_seconds: float = 60.0
    per_address: int = 64
    total: int = 1000


# Request bodies kept in memory by all connections together. waitress keeps each body
# in memory up to ``inbuf_overflow`` (8 MiB: uploads are twice as fast as through a
# temporary file), so 1,000 connections sending 8 MiB each would hold 8 GB; past this
# budget a body goes straight to a temporary file instead.
MEMORY_BODIES_BYTES: Final = 128 * 1024 * 1024


class _BodyMemory:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.reserved = 0
        self._guard = threading.Lock()

    def reserve(self, size: int) -> bool:
        with self._guard:
            if self.reserved + size > self.limit:
                return False
            self.reserved += size
            return True

    def release(self, size: int) -> None:
        with self._guard:
            self.reserved -= size


BODY_MEMORY: Final = _BodyMemory(MEMORY_BODIES_BYTES)


class _TimedParser(HTTPRequestParser):
    """A request being received, with the moment its first byte arrived, whose body
    is kept in memory only within ``BODY_MEMORY``."""

    _in_memory = 0
    # Made on the loop thread for ``LoopAnswers.prepare``; the task uses this one.
    loop_environ: dict[str, Any] | None = None

    def __init__(self, adj: Any) -> None:
        super().__init__(adj)
        self.started = time.monotonic()

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        receiver = self.body_rcv
        if receiver is None:
            return
        size = min(self.content_length or self.adj.inbuf_overflow, self.adj.inbuf_overflow)
        if BODY_MEMORY.reserve(size):
            self._in_memory = size
        else:
            receiver.buf.overflow = 0  # to a temporary file from its first block

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()

    def _release(self) -> None:
        size, self._in_memory = self._in_memory, 0
        if size:
            BODY_MEMORY.release(size)

    def __del__(self) -> None:  # a request dropped without close() (a cancelled channel)
        self._release()


class LoopReadyTask(WSGITask):
    """A request's task, with the environment made on the loop thread where there is one."""

    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] | None = getattr(self.request, "loop_environ", None)
        if environ is not None:
            self.environ = environ
            return environ
        return super().get_environment()  # type: ignore[no-any-return]


class BudgetedChannel(HTTPChannel):
    parser_class = _TimedParser
    server: BudgetedServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.idle_since = self.output_progress = time.monotonic()
        # A next request not started because the client has not read the last answers.
        self.deferred = False
        # The request just read is to be answered on the loop thread (``answer_here``).
        self.answer_after_read = False

    # --- answers ready at once, on the loop thread -----------------------------------------

    def handle_read(self) -> None:
        _loop.reading = self
        try:
            super().handle_read()
        finally:
            _loop.reading = None
        if self.answer_after_read:
            self.answer_after_read = False
            self._answer_on_loop()

    def answer_here(self) -> bool:
        """Called by ``add_task`` when a request is complete and nothing of this
        connection runs: whether the loop thread answers it itself, after the read (here
        it is inside waitress's ``received``, under the requests' lock)."""
        answers = self.server.loop_answers
        if answers is None or getattr(_loop, "reading", None) is not self:
            return False  # a worker's next request, a deferred one resumed: the pool
        request = self.requests[0]
        if request.error is not None or not answers.may_answer(request.command, request.path):
            return False
        environ = self.task_class(self, request).get_environment()
        if not answers.prepare(environ):
            return False
        request.loop_environ = environ
        self.answer_after_read = True
        return True

    def _answer_on_loop(self) -> None:
        if not self.requests:  # closed meanwhile
            return
        request = self.requests[0]
        _loop.answering = True
        try:
            self.service()  # waitress's own: the same task, answer, keep-alive, errors
        finally:
            _loop.answering = False
            environ, request.loop_environ = request.loop_environ, None
            answers = self.server.loop_answers
            if environ is not None and answers is not None:
                answers.release(environ)
        if self.connected and self.total_outbufs_len:
            self.handle_write()  # now, not a turn of the loop later

    # --- never wait for the client -------------------------------------------------------

    def _flush_outbufs_below_high_watermark(self) -> None:
        """waitress waits here (in a worker) until the client has read enough; the worker
        goes on instead: the next request waits in ``deferred`` (see ``service_later``)
        and a single answer is at most an image, kept in a file buffer, not memory."""

    def write_soon(self, data: Any) -> int:
        if not self.total_outbufs_len:
            self.output_progress = time.monotonic()
        return super().write_soon(data)  # type: ignore[no-any-return]

    def _flush_some(self, do_close: bool = True) -> bool:
        sent = super()._flush_some(do_close=do_close)
        if sent:
            self.output_progress = time.monotonic()
        return sent  # type: ignore[no-any-return]

    def service_later(self) -> bool:
        """Whether to hold the next request until the output drains (caller: add_task)."""
        with self.outbuf_lock:
            if self.total_outbufs_len > self.adj.outbuf_high_watermark:
                self.deferred = True
                return True
        return False

    def handle_write(self) -> None:
        super().handle_write()
        with self.outbuf_lock:
            resume = (
                self.deferred
                and self.connected
                and self.total_outbufs_len <= self.adj.outbuf_high_watermark
            )
            if resume:
                self.deferred = False
        if resume:
            self.server.add_task(self)

    def service(self) -> None:
        _serving.channel = self
        try:
            super().service()
        finally:
            _serving.channel = None
        self.idle_since = time.monotonic()

    def handle_close(self) -> None:
        partial = self.request
        super().handle_close()
        if partial is not None:  # a body cut off half-way: its buffer goes now
            partial.close()

    # --- deadlines -----------------------------------------------------------------------

    def overdue(self, now: float, limits: ConnectionLimits) -> str | None:
        """Why this connection is to be closed now, if it is."""
        if self.total_outbufs_len and now - self.output_progress > limits.output_stall_seconds:
            return "its answers went unread"
        request = self.request
        if request is None or request.completed or self.requests:
            return None
        started: float = getattr(request, "started", now)
        if not request.headers_finished:
            if now - started > limits.head_seconds:
                return "its request head was too slow"
        elif now - started > limits.body_seconds + request.content_length / limits.body_min_rate:
            return "its request body was too slow"
        return None

    def stale_since(self) -> float | None:
        """When this connection last did something useful; ``None`` while it is running
        a request or sending an answer (never closed to make room)."""
        if self.requests or self.total_outbufs_len or self.deferred:
            return None
        if self.request is not None:
            return float(getattr(self.request, "started", self.idle_since))
        return self.idle_since

    def close_for(self, reason: str, *, answer_timeout: bool = False) -> None:
        log.info("Closing the connection from %s: %s.", self.addr[0] if self.addr else "?", reason)
        if answer_timeout and not self.requests and not self.total_outbufs_len:
            with contextlib.suppress(OSError):
                self.socket.send(_TIMEOUT_RESPONSE)
        self.handle_close()


class BudgetedServer(TcpWSGIServer):
    channel_class = BudgetedChannel
    limits = ConnectionLimits()
    loop_answers: LoopAnswers | None = None  # None: every request runs in the pool

    def add_task(self, task: Any) -> None:
        if isinstance(task, BudgetedChannel) and (task.service_later() or task.answer_here()):
            return
        super().add_task(task)

    def pull_trigger(self) -> None:
        """Wakes the loop (from a worker), telling it which connection to look at."""
        if getattr(_loop, "answering", False):
            return  # the loop itself: it looks at the connection when the answer is made
        socket_map = self._map
        if isinstance(socket_map, WatchedMap):
            channel = getattr(_serving, "channel", None)
            if channel is None:
                socket_map.touch_all()
            else:
                socket_map.touch(channel._fileno)
        super().pull_trigger()

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections (waitress's channel_timeout)
        if isinstance(self._map, WatchedMap):
            self._map.touch_all()  # it may have marked any of them to be closed
        mono = time.monotonic()
        for channel in list(self.active_channels.values()):
            if not isinstance(channel, BudgetedChannel):
                continue
            reason = channel.overdue(mono, self.limits)
            if reason is not None:
                channel.close_for(reason, answer_timeout="request" in reason)

    def handle_accept(self) -> None:
        before = set(self.active_channels)
        super().handle_accept()
        for fd in set(self.active_channels) - before:
            channel = self.active_channels[fd]
            if isinstance(channel, BudgetedChannel):
                self._make_room(channel)

    def _make_room(self, new: BudgetedChannel) -> None:
        channels = [c for c in self.active_channels.values() if isinstance(c, BudgetedChannel)]
        address = new.addr[0] if new.addr else None
        same = [c for c in channels if c.addr and c.addr[0] == address]
        if len(same) > self.limits.per_address:
            self._evict(same, new, f"more than {self.limits.per_address} connections from it")
        elif len(channels) > self.limits.total:
            self._evict(channels, new, f"more than {self.limits.total} connections in all")

    @staticmethod
    def _evict(channels: list[BudgetedChannel], new: BudgetedChannel, why: str) -> None:
        stale = [(c.stale_since(), c) for c in channels if c is not new]
        candidates = [(since, c) for since, c in stale if since is not None]
        if not candidates:
            new.close_for(why + ", all busy")
            return
        _, victim = min(candidates, key=lambda item: item[0])
        victim.close_for(why + "; this one was the stalest")
