"""Settings that belong to a library rather than to a person's desktop: kept in the
library's database (the ``settings`` table the trash's retention uses too), so they travel
with the folder and hold for every face that opens it, the window and ``imageshelf
serve`` alike. Each has its default here."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Final

from sqlalchemy import Connection

from . import rules
from .errors import InvalidInput
from .sql import trash_rows as sql

Transaction = Callable[[], AbstractContextManager[Connection]]

# name → default. A stored value not of the default's type (written by hand, or by a
# newer version) is ignored: the default holds, so a bad value cannot break the library.
DEFAULTS: Final[dict[str, Any]] = {
    # Bytes the transform cache (.imageshelf/transforms) may hold; 0 keeps nothing.
    "transform_cache_bytes": rules.TRANSFORM_CACHE_DEFAULT_BYTES,
}


class LibrarySettings:
    """Read from the database once per setting, then from memory; written through.
    ``read`` and ``write`` open a connection and a transaction (``Core.read``/``write``)."""

    def __init__(self, read: Transaction, write: Transaction) -> None:
        self._read = read
        self._write = write
        self._values: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        default = DEFAULTS[name]
        if name not in self._values:
            with self._read() as conn:
                self._values[name] = sql.setting(conn, name)
        value = self._values[name]
        if type(value) is not type(default) or (isinstance(value, int) and value < 0):
            return default
        return value

    def set(self, name: str, value: Any) -> None:
        """Saves ``value``; ``InvalidInput`` for an unknown name or a wrong value."""
        if name not in DEFAULTS:
            raise InvalidInput(f"There is no library setting {name!r}.")
        default = DEFAULTS[name]
        if type(value) is not type(default) or (isinstance(value, int) and value < 0):
            raise InvalidInput(f"The setting {name} takes a {type(default).__name__} ≥ 0.")
        with self._write() as conn:
            sql.set_setting(conn, name, value)
        self._values[name] = value

    @property
    def transform_cache_bytes(self) -> int:
        return int(self.get("transform_cache_bytes"))
