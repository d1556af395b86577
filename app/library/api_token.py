"""The API bearer token kept in the library folder (``.imageshelf/api-token``, owner
only): the one place that reads and writes it. ``read`` needs no open library, so
``imageshelf token`` works while ``imageshelf serve`` holds the library's lock. The
environment can set the token instead (``TOKEN_ENV``, ``from_environment``): the server,
the window's server and the command line's HTTP client all ask here."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from . import files, layout

TOKEN_ENV = "IMAGESHELF_API_TOKEN"


def from_environment() -> str | None:
    """``$IMAGESHELF_API_TOKEN`` when set and not blank: it then wins over the library's."""
    return os.environ.get(TOKEN_ENV, "").strip() or None


def token_path(root: Path) -> Path:
    return Path(root).expanduser() / layout.META_DIR / layout.TOKEN_FILE


def read(root: Path) -> str | None:
    """The stored token, or ``None`` when there is none (or it cannot be read)."""
    try:
        return token_path(root).read_text().strip() or None
    except OSError:
        return None


def regenerate(root: Path) -> str:
    """A new token, written atomically, readable by the owner only."""
    token = secrets.token_urlsafe(32)
    path = token_path(root)
    with files.disk_errors("save the API token"):
        old_umask = os.umask(0o077)
        try:
            files.write_atomic(path, token.encode())
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)
    return token
