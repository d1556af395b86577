"""The log: one rotating file under the platform's user log directory
(``~/.local/state/imageshelf/log/imageshelf.log`` on Linux), which every face of the
program (window, ``serve``, the command line) writes and every error message points to.

Only warnings and errors go to the terminal; the file gets info and up."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path
from typing import Final

import platformdirs

APP_NAME: Final = "imageshelf"
LOG_FILE: Final = "imageshelf.log"
LOG_ENV: Final = "IMAGESHELF_LOG_DIR"  # tests and bundles point the log elsewhere
MAX_BYTES: Final = 1024 * 1024
BACKUPS: Final = 3  # imageshelf.log.1 ... .3: at most 4 MiB in all
FORMAT: Final = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"

_installed: Path | None = None


def log_path() -> Path:
    directory = os.environ.get(LOG_ENV) or platformdirs.user_log_dir(APP_NAME, appauthor=False)
    return Path(directory) / LOG_FILE


def setup_logging(*, console_level: int = logging.WARNING) -> Path | None:
    """Installs the rotating file handler (once per process) and a terminal handler at
    ``console_level``. Returns the log file, or ``None`` when it cannot be written (a
    read-only home): the program still runs, logging to the terminal only."""
    global _installed
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # schema chatter on every open
    if not any(getattr(h, "_imageshelf_console", False) for h in root.handlers):
        console = logging.StreamHandler()
        console.setLevel(console_level)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        console._imageshelf_console = True  # type: ignore[attr-defined]
        root.addHandler(console)
    if _installed is not None:
        return _installed
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    _installed = path
    return path


def see_the_log() -> str:
    """The tail every error message ends with."""
    return f"See the log: {_installed or log_path()}"
