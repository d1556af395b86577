"""Settings that belong to a library rather than to a person's desktop: they travel with
the folder (``.imageshelf/settings.json``) and hold for every face that opens it, the
window and ``imageshelf serve`` alike. Each has its default here; a file written by a
newer version keeps the keys this one does not know."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Final

from . import rules
from .errors import InvalidInput
from .files import disk_errors, write_atomic

# name → default. A value read from the file that is not of the default's type is ignored
# (the default holds), so a hand-edited file cannot break the library.
DEFAULTS: Final[dict[str, Any]] = {
    # Bytes the transform cache (.imageshelf/transforms) may hold; 0 keeps nothing.
    "transform_cache_bytes": rules.TRANSFORM_CACHE_DEFAULT_BYTES,
}


class LibrarySettings:
    """Read once, written through atomically; safe to use from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        if isinstance(loaded, dict):
            self._values = loaded

    def get(self, name: str) -> Any:
        default = DEFAULTS[name]
        value = self._values.get(name, default)
        if type(value) is not type(default):
            return default
        return value

    def set(self, name: str, value: Any) -> None:
        """Saves ``value``; ``InvalidInput`` for an unknown name or a wrong type."""
        if name not in DEFAULTS:
            raise InvalidInput(f"There is no library setting {name!r}.")
        default = DEFAULTS[name]
        if type(value) is not type(default) or (isinstance(value, int) and value < 0):
            raise InvalidInput(f"The setting {name} takes a {type(default).__name__} ≥ 0.")
        with self._lock:
            values = {**self._values, name: value}
            with disk_errors("save the library's settings"):
                write_atomic(self.path, json.dumps(values, indent=2).encode())
            self._values = values

    @property
    def transform_cache_bytes(self) -> int:
        return int(self.get("transform_cache_bytes"))
