"""``GET /v3/events``: the library's committed changes, live (the contract's "Live
changes"). ``Accept: text/event-stream`` gets Server-Sent Events; anything else a
long-poll JSON answer. The numbered log itself is the core's (``app/library/changes.py``).

waitress runs a streamed response on one of its worker threads for as long as the stream
lasts, so streams (and long-polls that wait) take a slot from ``EventStreams``: at most
``limit`` at once, the next one ``503 busy`` with ``Retry-After``, and the other workers
stay free for everything else."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from typing import Any, Final

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from imageshelf.app.library import InvalidInput, Library, LibraryError, rules
from imageshelf.app.library.changes import Change
from imageshelf.app.library.folder_limit import FolderLimit

from .auth import current_limit
from .errors import error_response
from .images_api import library, public_base
from .serialize import image_response

log = logging.getLogger(__name__)

bp = Blueprint("events", __name__, url_prefix="/v3/events")

EXTENSION_KEY: Final = "imageshelf_event_streams"
MAX_STREAMS: Final = 4
# The setting for ``imageshelf serve`` and the window: how many streams may run at once.
MAX_STREAMS_ENV: Final = "IMAGESHELF_MAX_STREAMS"
HEARTBEAT_S: Final = 15.0
# How long one wait of a stream lasts at most: a stopping server is noticed this soon.
STREAM_TICK_S: Final = 0.5
_SEQ: Final = re.compile(r"[0-9]{1,18}")


class EventStreams:
    """The streams of one app: how many may run at once, the heartbeat, and a stop
    signal the server gives at shutdown so open streams end instead of holding it up.
    ``limit`` and ``heartbeat_s`` may be changed while serving (tests shorten them)."""

    def __init__(self, limit: int = MAX_STREAMS, heartbeat_s: float = HEARTBEAT_S) -> None:
        self.limit = limit
        self.heartbeat_s = heartbeat_s
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._open = 0

    def take(self) -> bool:
        with self._lock:
            if self._open >= self.limit:
                return False
            self._open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._open -= 1

    @property
    def open(self) -> int:
        with self._lock:
            return self._open

    def stop(self) -> None:
        self.stopping.set()


class _Slot:
    """A taken stream slot, given back exactly once (by the stream's end or the
    response's close, whichever comes first)."""

    def __init__(self, streams: EventStreams) -> None:
        self.streams = streams
        self._held = True
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            held, self._held = self._held, False
        if held:
            self.streams.give_back()


def stream_limit(given: int | None) -> int:
    """``given``, else ``IMAGESHELF_MAX_STREAMS`` (1 to 64), else 4. Keep it below the
    server's threads (8): each stream holds one for as long as it lasts."""
    if given is not None:
        return given
    raw = os.environ.get(MAX_STREAMS_ENV, "").strip()
    if raw.isdigit() and 1 <= int(raw) <= 64:
        return int(raw)
    if raw:
        log.warning(
            "%s=%r is not a number from 1 to 64; using %d.", MAX_STREAMS_ENV, raw, MAX_STREAMS
        )
    return MAX_STREAMS


def _streams() -> EventStreams:
    streams: EventStreams = current_app.extensions[EXTENSION_KEY]
    return streams


def _busy(streams: EventStreams) -> Response:
    return error_response(
        503,
        "busy",
        f"{streams.limit} event streams are open already, the most this server keeps; "
        "try again shortly or close one.",
    )


def _seq(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    if not _SEQ.fullmatch(raw.strip()):
        raise _bad(f"{name} must be a whole number (an event's id), not {raw!r}.")
    return int(raw.strip())


def _bad(message: str) -> LibraryError:
    return InvalidInput(message)


def event_body(
    lib: Library, change: Change, base: str, within: FolderLimit | None = None
) -> dict[str, Any] | None:
    """``{"id", "image"}``: the image as it is now (the newest state: a later change has
    its own event), the trashed image for a delete into the trash, ``null`` when it is no
    longer anywhere; no ``image`` for ``image.purged``. ``None`` (not shown) for a key
    limited to ``within`` when the image is not (or no longer known to be) inside."""
    body: dict[str, Any] = {"id": change.image_id}
    if change.event == "image.purged":
        return body if within is None else None
    record = None
    try:
        record = lib.get(change.image_id)
    except LibraryError:
        try:
            record = lib.trash.get(change.image_id).image
        except LibraryError:
            record = None
    if within is not None and (record is None or not within.allows(record.folder)):
        return None
    body["image"] = None if record is None else image_response(record, base)
    return body


def _sse_event(lib: Library, change: Change, base: str, within: FolderLimit | None) -> bytes:
    body = event_body(lib, change, base, within)
    if body is None:  # outside the key's folders: the id moves on, nothing is shown
        return f": {change.seq}\n\n".encode()
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return f"id: {change.seq}\nevent: {change.event}\ndata: {data}\n\n".encode()


def _sse(
    lib: Library,
    streams: EventStreams,
    slot: _Slot,
    since: int,
    base: str,
    within: FolderLimit | None,
) -> Iterator[bytes]:
    try:
        # First bytes at once: the client knows it is connected, proxies see a stream.
        yield b": imageshelf events\nretry: 3000\n\n"
        next_beat = time.monotonic() + streams.heartbeat_s
        while not streams.stopping.is_set() and not lib.changes.closed:
            tick = min(STREAM_TICK_S, max(0.0, next_beat - time.monotonic()))
            found = lib.changes.wait(since, tick)
            if found.reset:
                since = found.latest
                data = json.dumps({"next_since": since})
                yield f"id: {since}\nevent: reset\ndata: {data}\n\n".encode()
            for change in found.changes:
                yield _sse_event(lib, change, base, within)
                since = change.seq
            if time.monotonic() >= next_beat:
                yield b": keepalive\n\n"
                next_beat = time.monotonic() + streams.heartbeat_s
    finally:
        slot.release()


@bp.get("", strict_slashes=False)
def events() -> Response:
    lib = library()
    streams = _streams()
    since_arg = _seq(request.args.get("since"), "since")
    if request.accept_mimetypes.best == "text/event-stream":
        last_id = _seq(request.headers.get("Last-Event-ID"), "Last-Event-ID")
        # A browser reconnecting sends Last-Event-ID on the URL it first used: the header
        # is the newer truth. Neither: live changes from now on.
        since = last_id if last_id is not None else since_arg
        if since is None:
            since = lib.changes.latest()
        if request.method == "HEAD":  # the headers only: never a stream nobody reads
            return Response(mimetype="text/event-stream", headers={"Cache-Control": "no-store"})
        if not streams.take():
            return _busy(streams)
        slot = _Slot(streams)
        response = Response(
            _sse(lib, streams, slot, since, public_base(), current_limit()),
            mimetype="text/event-stream",
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Accel-Buffering"] = "no"  # nginx in front: do not buffer
        response.call_on_close(slot.release)
        return response
    return _long_poll(lib, streams, since_arg or 0)


def _long_poll(lib: Library, streams: EventStreams, since: int) -> Response:
    wait_raw = request.args.get("wait", "0")
    if not re.fullmatch(r"[0-9]{1,2}", wait_raw) or int(wait_raw) > rules.MAX_EVENTS_WAIT_S:
        raise _bad(f"wait must be a whole number of seconds from 0 to {rules.MAX_EVENTS_WAIT_S}.")
    wait = int(wait_raw)
    if wait:
        if not streams.take():
            return _busy(streams)
        slot = _Slot(streams)
        try:
            deadline = time.monotonic() + wait
            while True:  # in ticks, so a stopping server is not held up
                remaining = deadline - time.monotonic()
                found = lib.changes.wait(since, min(STREAM_TICK_S, max(0.0, remaining)))
                if found.changes or found.reset or remaining <= 0 or streams.stopping.is_set():
                    break
        finally:
            slot.release()
    else:
        found = lib.changes.read(since)
    base = public_base()
    items = []
    within = current_limit()
    for change in found.changes:
        body = event_body(lib, change, base, within)
        if body is None:
            continue  # outside the key's folders
        items.append(
            {
                "seq": change.seq,
                "event": change.event,
                "id": change.image_id,
                "image": body.get("image"),
            }
        )
    last = found.changes[-1].seq if found.changes else since
    next_since = found.latest if found.reset else last
    answer: dict[str, Any] = {"events": items, "next_since": next_since}
    if found.reset:
        answer["reset"] = True
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response
