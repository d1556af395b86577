"""``imageshelf migrate SRC DST``: copies one library into another, keeping ids, times,
texts, custom metadata, EXIF facts, folders, the trash and the bytes, and the API keys,
share links, download jobs and idempotency answers (``library.library_copy``). Each side
is a folder path, or a team library given by its two addresses (``--from-database URL
--from-storage URL`` in place of SRC, ``--to-database URL --to-storage URL`` in place of
DST). Run again after a stop: it finishes, copying nothing twice."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from ..library import Library, LibraryError, LibraryLocked, NotFound
from ..library import library_address as addresses
from ..library.library_address import LibraryAddress
from ..library.library_copy import CopyReport, Progress, copy_library
from .common import NOT_FOUND, OK, PARTIAL, CommandError

_EVERY_S = 2.0  # a progress line at most this often (and at each stage's end)


def add_parser(command: Callable[[str, str, str], argparse.ArgumentParser]) -> None:
    p = command(
        "migrate",
        "migrate",
        "copy a library into another (a folder or a team library, either way), keeping "
        "ids, alt text, metadata and bytes, API keys and share links; run again to finish "
        "an interrupted copy",
    )
    p.add_argument("sides", nargs="*", metavar="SRC DST", help="library folders")
    p.add_argument("--from-database", metavar="URL", help="SRC is a team library: its database")
    p.add_argument("--from-storage", metavar="URL", help="SRC's storage (s3://BUCKET[/PREFIX])")
    p.add_argument("--to-database", metavar="URL", help="DST is a team library: its database")
    p.add_argument("--to-storage", metavar="URL", help="DST's storage (s3://BUCKET[/PREFIX])")
    p.add_argument("-q", "--quiet", action="store_true", help="only the summary")


def sides(args: argparse.Namespace) -> tuple[LibraryAddress, LibraryAddress]:
    """SRC and DST from the positional folders and the team options."""
    folders = list(args.sides)
    src_team = args.from_database is not None or args.from_storage is not None
    dst_team = args.to_database is not None or args.to_storage is not None
    wanted = 2 - src_team - dst_team
    if len(folders) != wanted:
        raise CommandError(
            "give SRC and DST: each a library folder, or a team library as "
            "--from-database URL --from-storage URL (SRC) / "
            "--to-database URL --to-storage URL (DST).",
            2,
        )
    try:
        src = (
            addresses.team(args.from_database, args.from_storage, path_style=args.path_style)
            if src_team
            else addresses.folder(folders.pop(0))
        )
        dst = (
            addresses.team(args.to_database, args.to_storage, path_style=args.path_style)
            if dst_team
            else addresses.folder(folders.pop(0))
        )
    except LibraryError as exc:
        raise CommandError(exc.message, 2) from None
    if src == dst or (
        src.folder is not None
        and dst.folder is not None
        and src.folder.resolve() == dst.folder.resolve()
    ):
        raise CommandError("SRC and DST are the same library.", 2)
    return src, dst


def _open(address: LibraryAddress, role: str, *, must_exist: bool) -> Library:
    try:
        return addresses.open_library(address, must_exist=must_exist)
    except NotFound as exc:
        raise CommandError(f"{role}: {exc.message}", NOT_FOUND) from None
    except LibraryLocked as exc:
        raise CommandError(
            f"{role}: {exc.message} Stop the window or server using it, then run migrate again."
        ) from None
    except LibraryError as exc:
        raise CommandError(f"{role}: {exc.message}") from None


class _Lines:
    """A progress line per stage at most every ``_EVERY_S`` seconds, and at its end."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if self.quiet or (now - self.last < _EVERY_S and p.done != p.total):
            return
        self.last = now
        r = p.report
        print(
            f"{p.stage}: {p.done}/{p.total}  copied {r.copied}, trashed {r.trashed}, "
            f"already there {r.skipped}, failed {len(r.failed)}",
            file=sys.stderr,
            flush=True,
        )


def _summary(report: CopyReport, src: LibraryAddress, dst: LibraryAddress) -> str:
    rows = report.rows
    return (
        f"Copied {report.copied} images and {report.trashed} trashed ones from "
        f"{src.describe()} to {dst.describe()}; {report.skipped} were there already, "
        f"{report.deleted_ids} deleted ids and {report.folders} empty folders carried over, "
        f"{len(report.failed)} failed. New there: {rows.get('api_keys', 0)} API keys, "
        f"{rows.get('shares', 0)} share links, {rows.get('download_jobs', 0)} download "
        f"jobs, {rows.get('idempotency_keys', 0)} idempotency answers."
    )


def migrate_command(args: argparse.Namespace) -> int:
    src_address, dst_address = sides(args)
    src = _open(src_address, "SRC", must_exist=True)
    try:
        dst = _open(dst_address, "DST", must_exist=False)
        try:
            report = copy_library(src, dst, _Lines(args.quiet))
        finally:
            dst.close()
    finally:
        src.close()
    for image_id, why in report.failed:
        print(f"imageshelf migrate: {image_id}: {why}", file=sys.stderr, flush=True)
    print(_summary(report, src_address, dst_address), flush=True)
    return PARTIAL if report.failed else OK
