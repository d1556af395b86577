"""waitress's socket loop, at the cost of what is active rather than of what is open.

waitress's own loop (``wasyncore.poll2``) builds a new poll set every turn: it asks each
of the open connections whether it wants to read or write and registers it again. Under
500 trickling connections that was ≈ 200 µs of the loop thread's Python per turn,
holding the GIL, with ≈ 2,300 turns a second — half a core — and two such turns stand
between every request and its answer (one after the request is read, one after its
worker pulls the trigger), so a quiet client's every answer came ≈ 3× later
(docs/performance.md, target 11a).

Here the registrations persist in one ``epoll`` set, and a turn looks again only at the
entries whose wishes may have changed:

- the sockets that had an event this turn (their handlers ran on this thread);
- the entries added to or removed from the map (``WatchedMap`` records them: accepted,
  closed, evicted connections);
- the connection whose worker pulled the trigger (``touch``; the worker says which,
  see ``connections.BudgetedServer.pull_trigger``), or all of them when a trigger is
  pulled by anyone else (``touch_all``);
- the entries that are not connections (the listening sockets and the trigger: their
  ``readable()`` runs the server's maintenance each second, which may mark any
  connection to be closed, so maintenance is followed by a look at every entry too).

waitress's semantics are kept: an entry is registered exactly when ``readable()`` or
``writable()`` says so (an accepting socket never for writing), with the same flags, and
its events go through waitress's own ``readwrite``. Where ``epoll`` is missing (not
Linux) or the map is a plain dict, waitress's loop runs unchanged."""

from __future__ import annotations

import contextlib
import select
from collections import deque
from typing import Any, Final

from waitress import wasyncore
from waitress.channel import HTTPChannel

_READ: Final = select.POLLIN | select.POLLPRI
_WRITE: Final = select.POLLOUT


class WatchedMap(dict[int, Any]):
    """waitress's socket map (file descriptor → dispatcher), recording which entries may
    want something new of the loop. ``touch`` and ``touch_all`` are safe from any thread
    (a deque's append and a flag's store are atomic)."""

    def __init__(self) -> None:
        super().__init__()
        self.touched: deque[int] = deque()
        self.everything = True
        # The running loop's registrations: an entry removed leaves the epoll set at
        # once, while its socket is still open (wasyncore closes it right after). Left
        # to the kernel, a socket whose descriptor a forking child still held for an
        # instant would stay registered under a number the next socket may reuse.
        self.registrations: _Registrations | None = None

    def touch(self, fd: int | None) -> None:
        if fd is not None:
            self.touched.append(fd)

    def touch_all(self) -> None:
        self.everything = True

    # wasyncore adds with ``map[fd] = obj``, removes with ``del map[fd]`` and
    # ``clear()``; the other ways to change a dict are covered for safety.
    def __setitem__(self, fd: int, obj: Any) -> None:
        super().__setitem__(fd, obj)
        self.touched.append(fd)

    def __delitem__(self, fd: int) -> None:
        super().__delitem__(fd)
        if self.registrations is not None:
            self.registrations.forget(fd)
        self.touched.append(fd)

    def pop(self, fd: int, *default: Any) -> Any:
        self.everything = True
        return super().pop(fd, *default)

    def popitem(self) -> tuple[int, Any]:
        self.everything = True
        return super().popitem()

    def clear(self) -> None:
        self.everything = True
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.everything = True
        super().update(*args, **kwargs)

    def setdefault(self, fd: int, default: Any = None) -> Any:
        self.everything = True
        return super().setdefault(fd, default)


def _wanted(obj: Any) -> int:
    """The poll flags waitress's ``poll2`` would register ``obj`` with (0: none)."""
    flags = _READ if obj.readable() else 0
    if obj.writable() and not obj.accepting:
        flags |= _WRITE
    return flags


class _Registrations:
    """What the epoll set holds: file descriptor → (dispatcher, flags)."""

    def __init__(self, epoll: select.epoll) -> None:
        self.epoll = epoll
        self.held: dict[int, tuple[Any, int]] = {}
        # Entries asked every turn: listening sockets and the trigger, a handful.
        self.always: set[int] = set()

    def update(self, fd: int, obj: Any) -> None:
        old = self.held.get(fd)
        if obj is None:
            if old is not None:
                self._drop(fd)
            return
        flags = _wanted(obj)
        if old is not None and old[0] is obj:
            if old[1] == flags:
                return
            registered = old[1]
        else:
            if old is not None:  # the descriptor is another socket's now
                self._drop(fd)
            if not isinstance(obj, HTTPChannel):
                self.always.add(fd)
            registered = 0
        self.held[fd] = (obj, flags)
        try:
            self._apply(fd, registered, flags)
        except OSError:
            # A socket closed behind its dispatcher's back: what poll() says of it
            # (POLLNVAL), so waitress closes the channel as its own loop would.
            self.held[fd] = (obj, 0)
            wasyncore.readwrite(obj, select.POLLNVAL)

    def _apply(self, fd: int, registered: int, flags: int) -> None:
        if flags and registered:
            try:
                self.epoll.modify(fd, flags)
            except FileNotFoundError:
                self.epoll.register(fd, flags)
        elif flags:
            try:
                self.epoll.register(fd, flags)
            except FileExistsError:
                self.epoll.modify(fd, flags)
        else:
            with contextlib.suppress(FileNotFoundError):
                self.epoll.unregister(fd)

    def forget(self, fd: int) -> None:
        if fd in self.held:
            self._drop(fd)

    def _drop(self, fd: int) -> None:
        # Mostly still open (see WatchedMap.registrations); if closed, already gone.
        _, flags = self.held.pop(fd)
        self.always.discard(fd)
        if flags:
            with contextlib.suppress(OSError, ValueError):
                self.epoll.unregister(fd)


def loop(socket_map: dict[int, Any], timeout: float = 1.0) -> None:
    """Serves the dispatchers of ``socket_map`` until it is empty (as ``wasyncore.loop``)."""
    if not isinstance(socket_map, WatchedMap) or not hasattr(select, "epoll"):
        wasyncore.loop(timeout=timeout, map=socket_map, use_poll=True)
        return
    with select.epoll() as epoll:
        held = socket_map.registrations = _Registrations(epoll)
        try:
            while socket_map:
                _turn(socket_map, held, timeout)
        finally:
            socket_map.registrations = None


def _turn(socket_map: WatchedMap, held: _Registrations, timeout: float) -> None:
    for fd in list(held.always):  # first: the listeners' maintenance may touch all
        held.update(fd, socket_map.get(fd))
    if socket_map.everything:
        # Flag first, then look: a touch made during the look is seen next turn.
        socket_map.everything = False
        socket_map.touched.clear()
        for fd in set(held.held) | set(socket_map):
            held.update(fd, socket_map.get(fd))
    else:
        touched = socket_map.touched
        fds: set[int] = set()
        while touched:
            fds.add(touched.popleft())
        for fd in fds:
            held.update(fd, socket_map.get(fd))
    for fd, flags in held.epoll.poll(timeout):
        obj = socket_map.get(fd)
        if obj is None:
            continue
        wasyncore.readwrite(obj, flags)
        socket_map.touched.append(fd)
