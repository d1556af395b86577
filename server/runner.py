"""Serving the app with waitress: in a background thread of the GUI process, or in the
foreground for ``imageshelf serve``.

``start()`` binds in the caller's thread, so a port already in use is an exception the
caller sees at once; the waitress loop then runs in a daemon thread. ``stop()`` is clean:
the listening socket closes first, requests already received run to completion and
their responses are flushed, then the worker threads and connections are shut."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from imageshelf.app.library import Library, rules
from imageshelf.app.library.rules import UPLOAD_LIMIT_TEXT
from imageshelf.app.library.transforms import max_waiting_requests

from . import address, discovery, event_loop
from .app import MAX_CONTENT_LENGTH, create_app
from .connections import BudgetedChannel, BudgetedServer, ConnectionLimits, LoopReadyTask
from .errors import CannotListen, PortInUse, code_for_status, error_response
from .events_api import EXTENSION_KEY as EVENT_STREAMS_KEY
from .guards import is_loopback_host
from .proxy import EXTENSION_KEY
from .proxy_lane import RememberedLane

log = logging.getLogger(__name__)

# From PERFORMANCE-FACTS.md: fewer than 8 threads collapsed under 32 connections; bigger
# receive chunks and an 8 MiB in-memory body limit (larger bodies spill to a temp file)
# nearly doubled upload throughput. Transform requests hold a thread while they wait for
# a slot or an identical request's result (up to 8 s): the gate holds at most
# ``max_waiting_requests()`` of them and they get that many threads on top, or originals
# and the API would queue behind them (benchmarks/bench_transforms.py, 7c).
THREADS: Final = 16 + max_waiting_requests()
RECV_BYTES: Final = 256 * 1024
INBUF_OVERFLOW: Final = 8 * 1024 * 1024
STOP_GRACE_SECONDS: Final = 30.0

# "Task queue depth is N" on every request under load costs CPU and fills the log.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class _JsonErrorTask(ErrorTask):
    """Errors waitress answers itself (malformed request, body over the limit) in the
    same JSON shape as every other error."""

    def execute(self) -> None:
        error = self.request.error
        status = int(error.code)
        code = "too_large" if status == 413 else code_for_status(status)
        message = (
            f"The request body is larger than this server accepts ({UPLOAD_LIMIT_TEXT} per image)."
            if status == 413
            else f"{error.reason}: {error.body}."
        )
        response = error_response(status, code, message)
        body = response.get_data()
        self.status = f"{status} {error.reason}"
        self.response_headers.extend(
            [("Content-Type", response.content_type or "application/json")]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _KeepAliveTask(LoopReadyTask):
    """waitress closes the connection after every response without a Content-Length —
    needed to delimit a body, but a 304 or 204 has none (RFC 9110), and waitress drops
    their Content-Length. Closing there would make every revalidation of a cached image
    (``If-None-Match`` → 304) pay for a new connection, so bodiless HTTP/1.1 responses
    keep the connection unless the client asked to close it."""

    _bodiless_keep_alive = False

    def build_response_header(self) -> bytes:
        connection = self.request.headers.get("CONNECTION", "").lower()
        if self.has_body or self.version != "1.1" or connection == "close":
            return super().build_response_header()  # type: ignore[no-any-return]
        self._bodiless_keep_alive = True
        try:
            return super().build_response_header()  # type: ignore[no-any-return]
        finally:
            self._bodiless_keep_alive = False

    def set_close_on_finish(self) -> None:
        if not self._bodiless_keep_alive:
            super().set_close_on_finish()


class _Channel(BudgetedChannel):
    task_class = _KeepAliveTask
    error_task_class = _JsonErrorTask


class _Server(BudgetedServer):
    channel_class = _Channel


# Room for the connections the budget allows, where the system's soft limit is lower
# (1,024 on a fresh Debian): the server process only, up to the hard limit.
_WANTED_OPEN_FILES: Final = 4096


def _raise_open_files_limit() -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = _WANTED_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, 4096)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ImportError, ValueError, OSError):
        pass


def _format_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def waitress_settings(limits: ConnectionLimits, threads: int = THREADS) -> dict[str, Any]:
    """waitress's adjustments for this server (the benchmarks' bare baselines run on the
    same, so their ratios measure the application alone)."""
    return {
        "threads": threads,
        "recv_bytes": RECV_BYTES,
        "inbuf_overflow": INBUF_OVERFLOW,
        # Bodies beyond what one image may need are refused before being read.
        "max_request_body_size": MAX_CONTENT_LENGTH,
        # The connection budget (connections.py) makes room before waitress's own limit,
        # which would stop accepting anyone, is ever reached.
        "connection_limit": limits.total + 16,
        "channel_timeout": int(limits.idle_seconds),
        "cleanup_interval": 1,
        # Read on while a request runs, so a client that has gone is noticed
        # (waitress.client_disconnected) and its upload stops decoding.
        "channel_request_lookahead": 1,
    }


def listen_error(host: str, port: int, exc: OSError) -> CannotListen:
    """What a person is told when ``host:port`` cannot be listened on."""
    where = f"{_format_host(host)}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return PortInUse(
            f"Port {port} on {host} is already in use by another "
            "program; stop it or choose another port with --port."
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return CannotListen(
            f"Not allowed to listen on {where} (ports below 1024 need "
            "special rights); choose another port with --port."
        )
    return CannotListen(f"Cannot listen on {where}: {exc.strerror or exc}.")


def check_can_listen(host: str, port: int) -> None:
    """Raises ``PortInUse``/``CannotListen`` if ``host:port`` cannot be bound now, so
    ``serve`` says so before a long start-up reconcile rather than after it. The real bind
    in ``start`` still decides (another program may take the port in between)."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return  # an unknown host: start() words that error
    for family, kind, proto, _, sockaddr in infos:
        with socket.socket(family, kind, proto) as probe:
            # As waitress binds: a port left in TIME_WAIT by our last run is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                raise listen_error(host, port, exc) from None


class BackgroundServer:
    """The API served by waitress on ``host:port`` (``port=0`` picks a free one)."""

    def __init__(
        self,
        library: Library,
        *,
        host: str = "127.0.0.1",
        port: int = rules.DEFAULT_PORT,
        token: str,
        public_url: str | None = None,
        threads: int = THREADS,
        limits: ConnectionLimits | None = None,
        announce: bool | None = None,
    ) -> None:
        """``announce``: on a LAN address, announce the server over mDNS (never on
        loopback: see ``discovery``); ``None``: unless ``$IMAGESHELF_ANNOUNCE`` is 0."""
        self.library = library
        self.announce = discovery.announcing_allowed() if announce is None else announce
        self.announcer: discovery.Announcer | None = None
        self.host = host
        self.requested_port = port
        self.threads = threads
        self.limits = limits or ConnectionLimits()
        self.app = create_app(
            library, token=token, public_url=public_url, loopback_only=is_loopback_host(host)
        )
        self._map = event_loop.WatchedMap()
        self._servers: list[BaseWSGIServer] = []
        self._dispatcher: ThreadedTaskDispatcher | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._address_nonce: str | None = None

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> BackgroundServer:
        """Binds now (``PortInUse`` / ``CannotListen`` on failure), then serves in a
        daemon thread."""
        if self._thread is not None:
            raise RuntimeError("The server is already started.")
        try:
            adj = Adjustments(
                host=self.host,
                port=str(self.requested_port),
                ident="imageshelf",
                # SERVER_NAME: links fall back to it when a client sends no valid Host.
                server_name=self.host,
                **waitress_settings(self.limits, self.threads),
            )
        except (ValueError, OSError) as exc:
            raise CannotListen(
                f"Cannot listen on {self.host}:{self.requested_port}: {exc}."
            ) from None
        _raise_open_files_limit()
        dispatcher = ThreadedTaskDispatcher()
        try:
            for sockinfo in adj.listen:
                server = _Server(
                    self.app, self._map, dispatcher=dispatcher, adj=adj, sockinfo=sockinfo
                )
                server.limits = self.limits
                server.loop_answers = self._loop_answers()
                self._servers.append(server)
        except OSError as exc:
            wasyncore.close_all(self._map)
            self._servers.clear()
            raise listen_error(self.host, self.requested_port, exc) from None
        dispatcher.set_thread_count(self.threads)
        self._dispatcher = dispatcher
        self._thread = threading.Thread(
            target=self._loop, name=f"imageshelf-http-{self.port}", daemon=True
        )
        self._thread.start()
        # Where the command line finds this process's API while it holds the library.
        self._address_nonce = address.publish(
            self.library.meta, address.connectable_url(self.host, self.port)
        )
        if self.announce:
            self.announcer = discovery.Announcer(
                self.host, self.port, version=discovery.default_version()
            ).start()
        return self

    def _loop_answers(self) -> RememberedLane | None:
        """What the socket loop may answer itself: the remembered lane's answers, when it
        is the outermost layer. Under ``--access-log`` (a layer above it, whose line's
        write may wait on a terminal or a pipe) every request runs in the pool."""
        lane = self.app.wsgi_app
        return lane if isinstance(lane, RememberedLane) else None

    def _loop(self) -> None:
        try:
            event_loop.loop(self._map, timeout=1.0)
        except Exception:
            log.exception("The HTTP server loop stopped unexpectedly")
        finally:
            self._stopped.set()

    def stop(self, timeout: float = STOP_GRACE_SECONDS) -> None:
        """Stops accepting, lets requests in flight finish (up to ``timeout`` seconds),
        then closes every connection and joins the threads. Safe to call twice."""
        thread, dispatcher = self._thread, self._dispatcher
        if (
            thread is None
            or dispatcher is None
            or (self._stopped.is_set() and not thread.is_alive())
        ):
            self._thread = None
            return
        address.withdraw(self.library.meta, self._address_nonce)
        if self.announcer is not None:
            self.announcer.stop()  # goodbye packets while the port still answers
            self.announcer = None
        streams = self.app.extensions.get(EVENT_STREAMS_KEY)
        if streams is not None:
            streams.stop()  # open event streams end now rather than hold the stop up
        trigger = self._servers[0].trigger

        def in_loop(thunk: Callable[[], None]) -> None:
            done = threading.Event()

            def run() -> None:
                try:
                    thunk()
                finally:
                    self._map.touch_all()  # the loop does not know what the thunk changed
                    done.set()

            trigger.pull_trigger(run)
            done.wait(timeout=5)

        def close_listeners() -> None:
            for server in self._servers:
                server.accepting = False
                server.del_channel()
                server.socket.close()

        in_loop(close_listeners)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._busy(dispatcher):
                time.sleep(0.02)
                continue
            # Quiet — but a connection only becomes readable again once its previous
            # request is done, so bytes that already arrived may not be taken in yet.
            # Two more turns of the loop read them; quiet after that is really quiet.
            in_loop(lambda: None)
            in_loop(lambda: None)
            if not self._busy(dispatcher):
                break
        dispatcher.shutdown(cancel_pending=True, timeout=max(1.0, deadline - time.monotonic()))
        trigger.pull_trigger(lambda: wasyncore.close_all(self._map))
        thread.join(timeout=5)
        self._thread = None
        proxy = self.app.extensions.get(EXTENSION_KEY)
        if proxy is not None:
            proxy.files.unsubscribe()  # the library may outlive this server

    def _busy(self, dispatcher: ThreadedTaskDispatcher) -> bool:
        """Whether any request is being received, run, or its response still sent."""
        if dispatcher.queue:
            return True
        for channel in list(self._map.values()):
            if not isinstance(channel, HTTPChannel):
                continue
            if channel.requests or channel.total_outbufs_len:
                return True
            if channel.request is not None and channel.request.header_bytes_received:
                return True
        return False

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- where it listens ----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stopped.is_set()

    @property
    def port(self) -> int:
        """The actual port (the one picked by the system when 0 was asked)."""
        if not self._servers:
            return self.requested_port
        return int(self._servers[0].effective_port)

    @property
    def base_url(self) -> str:
        host = self._servers[0].effective_host if self._servers else self.host
        return f"http://{_format_host(str(host))}:{self.port}"

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the server loop ends (after ``stop()``); True if it has."""
        return self._stopped.wait(timeout)
