"""Library-wide settings kept in the library's own database (table ``settings``, a key
and a JSON value), so every face of the same library — window, server, CLI — agrees, and
the setting travels with the library folder."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from .library import Library


class LibrarySettings:
    def __init__(self, library: Library) -> None:
        self._lib = library

    def get(self, key: str, default: Any = None) -> Any:
        with self._lib._read() as conn:
            raw = conn.execute(
                text("SELECT value FROM settings WHERE key = :k"), {"k": key}
            ).scalar()
        if raw is None:
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return default  # a value written by hand and broken: the default stands

    def set(self, key: str, value: Any) -> None:
        with self._lib._write() as conn:
            conn.execute(
                text(
                    "INSERT INTO settings (key, value) VALUES (:k, :v) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
                ),
                {"k": key, "v": json.dumps(value)},
            )
