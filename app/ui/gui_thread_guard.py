"""A check, for tests, that the window keeps library I/O off the GUI thread.

``GuiThreadGuard(library).library`` stands in for the ``Library`` the window is given.
Every method called on it (or on what hangs off it: ``trash``, ``core``...) from the GUI
thread while the guard is armed is recorded with the caller's stack and refused with
``GuiThreadCall``, so the gesture that made it fails loudly. Reading a plain value
(``root``, ``closed``) is not I/O and passes; so do calls from workers. A few calls that
touch no disk or database are allowed by name (``ALLOWED``)."""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any, cast

from imageshelf.app.library import Library

# Pure computations or bookkeeping: no disk, no database.
ALLOWED = frozenset({"path_of", "folder_path", "subscribe", "on_folders_changed"})


class GuiThreadCall(AssertionError):
    """A library call made on the GUI thread while the guard was armed."""


def _on_gui_thread() -> bool:
    from PySide6.QtCore import QCoreApplication, QThread

    app = QCoreApplication.instance()
    if app is None:
        return threading.current_thread() is threading.main_thread()
    return QThread.currentThread() is app.thread()


class GuiThreadGuard:
    def __init__(self, library: Library, *, armed: bool = False) -> None:
        self.target = library
        self.armed = armed
        self.calls: list[str] = []  # "name\nstack" of each refused call
        self.library = cast(Library, _Guarded(library, self, "library"))

    def wrap(self, library: Library) -> Library:
        """Another library (one the window opens later) watched by this same guard."""
        return cast(Library, _Guarded(library, self, "library"))

    @contextlib.contextmanager
    def arming(self) -> Iterator[None]:
        """Armed inside the block only."""
        before, self.armed = self.armed, True
        try:
            yield
        finally:
            self.armed = before

    def check(self, name: str) -> None:
        if self.armed and _on_gui_thread():
            stack = "".join(traceback.format_stack(limit=12)[:-2])
            self.calls.append(f"{name}\n{stack}")
            raise GuiThreadCall(f"{name} called on the GUI thread")

    def names(self) -> list[str]:
        """The refused calls, by name only (for an assertion's message)."""
        return [c.partition("\n")[0] for c in self.calls]


class _Guarded:
    """Forwards everything to ``target``; methods check the thread first, objects from
    the core are wrapped in turn."""

    def __init__(self, target: object, guard: GuiThreadGuard, path: str) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_guard", guard)
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        path = f"{self._path}.{name}"
        if name.startswith("__") or name in ALLOWED:
            return value
        if callable(value) and not isinstance(value, type):
            return _checked(value, self._guard, path)
        if type(value).__module__.startswith("imageshelf.app.library") and not _is_value(value):
            return _Guarded(value, self._guard, path)
        return value

    def __setattr__(self, name: str, value: object) -> None:
        setattr(self._target, name, value)

    def __eq__(self, other: object) -> bool:
        return bool(self._target == (other._target if isinstance(other, _Guarded) else other))

    def __hash__(self) -> int:
        return hash(self._target)


def _is_value(value: object) -> bool:
    """Records and enums are values, not services: passed through as they are."""
    import dataclasses
    import enum

    return dataclasses.is_dataclass(value) or isinstance(value, enum.Enum)


def _checked(method: Callable[..., Any], guard: GuiThreadGuard, path: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        guard.check(path)
        return method(*args, **kwargs)

    return call
