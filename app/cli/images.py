"""``imageshelf import | ls | alt | mv | rm | export``: the library from a script.

Each works on the library directly when no process holds it, and through the holder's
HTTP API when the window or ``serve`` does (``target.open_target``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..library import LibraryError, NotFound, export, importer, rules
from .common import NOT_FOUND, OK, PARTIAL, CommandError, Progress, library_path
from .target import Target, open_target


@contextlib.contextmanager
def _target(args: argparse.Namespace, *, create: bool = False) -> Iterator[Target]:
    target = open_target(library_path(args), create=create)
    try:
        yield target
    finally:
        target.close()


def _folder_arg(value: str | None) -> str | None:
    """``/`` and the empty string both name the top level."""
    return None if value in (None, "", "/") else value


# --- import --------------------------------------------------------------------------------


def import_command(args: argparse.Namespace) -> int:
    paths = [Path(p).expanduser() for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise CommandError(f"No such file or folder: {', '.join(missing)}.")
    items = importer.collect(paths, _folder_arg(args.folder))
    if not items:
        raise CommandError("Nothing to import: the folders hold no image files.")
    refused = 0
    with _target(args, create=True) as target:
        bar = Progress("Importing", len(items))
        try:
            for done, item in enumerate(items, 1):
                try:
                    if item.path.stat().st_size > rules.MAX_UPLOAD_BYTES:
                        raise CommandError(
                            f"larger than the {rules.MAX_UPLOAD_BYTES // (1024 * 1024)} MiB "
                            "an image may be"
                        )
                    image = target.add(item.path, folder=item.folder, alt_text=args.alt)
                except CommandError as exc:
                    refused += 1
                    bar.say(f"refused {item.path}: {exc.message}")
                except OSError as exc:
                    refused += 1
                    bar.say(f"refused {item.path}: {exc.strerror or exc}")
                else:
                    if not args.quiet:  # stdout, like ls: `imageshelf import x | cut -f1`
                        bar.say(f"{image['id']}\t{_where(image)}", sys.stdout)
                bar.update(done)
        finally:
            bar.close()
    added = len(items) - refused
    print(f"Imported {added} of {len(items)} file(s) into {target.where}.", file=sys.stderr)
    return PARTIAL if refused else OK


def _where(image: dict[str, Any]) -> str:
    folder = image.get("folder")
    return f"{folder}/{image['filename']}" if folder else str(image["filename"])


# --- ls --------------------------------------------------------------------------------------


def ls_command(args: argparse.Namespace) -> int:
    folder = None if args.folder is None else ("" if args.folder == "/" else args.folder)
    with _target(args) as target:
        images = target.images(folder=folder, search=args.search, undescribed=args.undescribed)
        if args.json:
            json.dump(list(images), sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return OK
        for image in images:
            alt = image["alt_text"]
            said = "(no alt text)" if alt is None else "(decorative)" if alt == "" else alt
            print(f"{image['id']}\t{_where(image)}\t{said}")
    return OK


# --- alt, mv, rm -----------------------------------------------------------------------------


def alt_command(args: argparse.Namespace) -> int:
    if args.decorative == (args.text is not None):
        raise CommandError("Give the alt text, or --decorative (an empty alt text), not both.")
    with _target(args) as target:
        image = target.update(args.id, alt_text="" if args.decorative else args.text)
    print(f"{image['id']}\t{_where(image)}")
    return OK


def mv_command(args: argparse.Namespace) -> int:
    with _target(args) as target:
        image = target.update(args.id, folder=_folder_arg(args.folder))
    print(f"{image['id']}\t{_where(image)}")
    return OK


def rm_command(args: argparse.Namespace) -> int:
    with _target(args) as target:
        for image_id in args.ids:
            target.delete(image_id)
            print(f"{image_id}\ttrashed")
    return OK


# --- export ----------------------------------------------------------------------------------


class _TargetSource:
    """The originals, from the library or through the holder's API (``export.Source``)."""

    def __init__(self, target: Target) -> None:
        self.target = target

    @contextlib.contextmanager
    def open(self, item: export.Item) -> Iterator[tuple[BinaryIO, str | None]]:
        try:
            with self.target.original(item.id) as stream:
                yield stream, None
        except CommandError as exc:
            if exc.code == NOT_FOUND:  # deleted meanwhile: reported, the rest exported
                raise NotFound(exc.message) from None
            raise


def export_command(args: argparse.Namespace) -> int:
    """Copies originals into DIR (a folder, made if needed) or, when it ends in ``.zip``,
    into a zip file, keeping their folders (``app/library/export.py``, as the window's
    Export does). Into a folder it never overwrites: a file already there with the same
    bytes counts as exported (a second run is a no-op), one with other bytes is left
    alone and reported. ``--embed-alt-text`` writes each image's alt text and long
    description into the copy's XMP (IPTC accessibility fields; pixels untouched); a
    format that cannot carry them (GIF) is copied as it is and reported.
    ``--alt-text-csv COLUMNS`` adds ``alt-text.csv``. Cancelled (Ctrl+C) or failed, it
    leaves nothing behind."""
    dest = Path(args.dir).expanduser()
    folder = None if args.folder is None else ("" if args.folder == "/" else args.folder)
    kind = export.Kind.ZIP if dest.name.lower().endswith(".zip") else export.Kind.FOLDER
    columns = tuple(c.strip() for c in (args.alt_text_csv or "").split(",") if c.strip())
    with _target(args) as target:
        items = [export.Item.from_api(i) for i in target.images(folder=folder)]
        bar = Progress("Exporting", len(items))
        try:
            report = export.export(
                items, _TargetSource(target), dest, kind, library_root=library_path(args),
                csv_columns=columns, embed_alt_text=args.embed_alt_text, replace=args.replace,
                progress=lambda done, *_: bar.update(done),
            )  # fmt: skip
        except LibraryError as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
    for name in report.not_embedded:
        bar.say(f"{name}: this format cannot carry alt text; copied as is")
    for name in report.kept:
        bar.say(f"kept {dest / name}: a different file is already there")
    for image_id in report.missing:
        bar.say(f"{image_id}: deleted while exporting; not in the export")
    done = len(report.written) + len(report.already)
    print(f"Exported {done} of {len(items)} image(s) to {dest}.", file=sys.stderr)
    if report.not_embedded:
        print(f"{len(report.not_embedded)} of them could not carry alt text.", file=sys.stderr)
    return PARTIAL if report.kept or report.not_embedded or report.missing else OK
