"""What every sub-command shares: exit codes, the one-line failure, the global options'
defaults, and the progress bar."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Final, TextIO

from ..library import LibraryError, rules
from ..library import library_address as addresses
from ..library.library_address import LibraryAddress
from ..library.locations import default_library_path

# Exit codes a script can tell apart (also listed at the end of --help).
OK: Final = 0
ERROR: Final = 1  # the command failed: bad input refused, disk error, server error
USAGE: Final = 2  # argparse's own: unknown option, missing argument
NOT_FOUND: Final = 3  # no such image, or no library at that folder
UNREACHABLE: Final = 4  # another process holds the library and its API cannot be reached
PARTIAL: Final = 5  # import/export: some files done, others refused (each one said)

EXIT_CODES_HELP: Final = (
    "exit codes: 0 done; 1 failed; 2 usage error; 3 no such image or library; "
    "4 the library is held by a process whose API cannot be reached; "
    "5 some files were refused (each is listed)"
)

# What opens a team library (None: the window).
TEAM_COMMANDS: Final = (None, "serve", "token", "keys")

DEFAULT_HOST: Final = rules.DEFAULT_HOST
DEFAULT_PORT: Final = rules.DEFAULT_PORT


class CommandError(Exception):
    """A failure said in one line, with its exit code."""

    def __init__(self, message: str, code: int = ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(command: str, message: str) -> None:
    print(f"imageshelf {command}: {message}", file=sys.stderr, flush=True)


def shown_path(path: Path) -> str:
    """``~/Pictures/Imageshelf`` rather than ``/home/ann/Pictures/Imageshelf`` in help."""
    home = Path.home()
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def team_address(args: argparse.Namespace, command: str | None) -> LibraryAddress | None:
    """The team library of ``--database``/``--storage`` (``--path-style``), or ``None``
    for a folder library; ``CommandError`` (usage) for a half-given or bad pair, a pair
    beside ``--library``, or a command that only opens folders."""
    database = getattr(args, "database", None)
    storage = getattr(args, "storage", None)
    if database is None and storage is None:
        if getattr(args, "path_style", False) and command != "migrate":
            raise CommandError("--path-style goes with --database and --storage.", USAGE)
        return None
    if command == "migrate":
        raise CommandError(
            "migrate names a team library with --from-database/--from-storage (SRC) "
            "or --to-database/--to-storage (DST).",
            USAGE,
        )
    if command not in TEAM_COMMANDS:
        raise CommandError(
            f"'{command}' works on a library folder; a team library (--database, "
            "--storage) is opened by the window, serve, token and keys (and copied by "
            "migrate).",
            USAGE,
        )
    if getattr(args, "library", None):
        raise CommandError("give either --library DIR or --database and --storage.", USAGE)
    try:
        return addresses.team(database, storage, path_style=args.path_style)
    except LibraryError as exc:
        raise CommandError(exc.message, USAGE) from None


def library_path(args: argparse.Namespace) -> Path:
    """The global ``--library`` (given before or after the sub-command), else the default."""
    given = getattr(args, "library", None)
    return Path(given).expanduser() if given else default_library_path()


class Progress:
    """A one-line bar on stderr, drawn only when stderr is a terminal (a script's log
    gets the per-file lines and the summary, not carriage returns)."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = total > 1 and self.stream.isatty() and not os.environ.get("CI")
        self._shown = -1

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        percent = done * 100 // max(1, self.total)
        if percent == self._shown and done != self.total:
            return
        self._shown = percent
        width = 30
        filled = width * done // max(1, self.total)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total}")
        self.stream.flush()

    def say(self, line: str, out: TextIO | None = None) -> None:
        """A line above the bar: on ``out`` (stdout for results a script reads) or on
        the bar's own stream (stderr, for what went wrong)."""
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        print(line, file=out or self.stream, flush=True)
        if self.enabled and self._shown >= 0:
            self._shown = -1

    def close(self) -> None:
        if self.enabled and self._shown >= 0:
            self.stream.write("\n")
            self.stream.flush()
