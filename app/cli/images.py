"""``imageshelf import | ls | alt | mv | rm | export``: the library from a script.

Each works on the library directly when no process holds it, and through the holder's
HTTP API when the window or ``serve`` does (``target.open_target``)."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..library import importer, rules
from ..library.errors import MetadataNotWritable
from ..library.xmp_write import embed_alt_text
from .common import OK, PARTIAL, CommandError, Progress, library_path
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


def export_command(args: argparse.Namespace) -> int:
    """Copies originals into DIR, keeping their folders. Never overwrites: a file already
    there with the same bytes counts as exported (a second run is a no-op), one with other
    bytes is left alone and reported. ``--embed-alt-text`` writes each image's alt text and
    long description into the copy's XMP (IPTC accessibility fields; pixels untouched); a
    format that cannot carry them (GIF) is copied as it is and reported."""
    dest = Path(args.dir).expanduser()
    folder = None if args.folder is None else ("" if args.folder == "/" else args.folder)
    clashes = not_embedded = 0
    with _target(args) as target:
        images = list(target.images(folder=folder))
        bar = Progress("Exporting", len(images))
        try:
            for done, image in enumerate(images, 1):
                out = dest / _where(image)
                data: bytes | None = None
                if args.embed_alt_text:
                    data = _with_alt_text(image, target)
                    if data is None:
                        not_embedded += 1
                        bar.say(f"{out.name}: this format cannot carry alt text; copied as is")
                if out.exists():
                    if not _same_bytes(out, image, target, data):
                        clashes += 1
                        bar.say(f"kept {out}: a different file is already there")
                else:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    if data is not None:
                        _write_new(out, io.BytesIO(data))
                    else:
                        with target.original(image["id"]) as stream:
                            _write_new(out, stream)
                bar.update(done)
        finally:
            bar.close()
    print(f"Exported {len(images) - clashes} of {len(images)} image(s) to {dest}.", file=sys.stderr)
    if not_embedded:
        print(f"{not_embedded} of them could not carry alt text.", file=sys.stderr)
    return PARTIAL if clashes or not_embedded else OK


def _with_alt_text(image: dict[str, Any], target: Target) -> bytes | None:
    """The original's bytes with its accessibility fields embedded; ``None`` where the
    format cannot carry them (or the packet would not fit)."""
    with target.original(image["id"]) as stream:
        original = stream.read()
    try:
        return embed_alt_text(
            original, image.get("alt_text"), image.get("long_description"), image["content_type"]
        )
    except MetadataNotWritable:
        return None


def _same_bytes(
    path: Path, image: dict[str, Any], target: Target, data: bytes | None = None
) -> bool:
    """Whether the file at ``path`` holds what the export writes: ``data`` when given
    (a copy with alt text embedded), else the original's bytes."""
    try:
        if path.stat().st_size != (image["size"] if data is None else len(data)):
            return False
        with open(path, "rb") as there:
            theirs = hashlib.file_digest(there, "sha256").hexdigest()
    except OSError:
        return False
    if data is not None:
        return hashlib.sha256(data).hexdigest() == theirs
    digest = hashlib.sha256()
    with target.original(image["id"]) as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest() == theirs


def _write_new(out: Path, stream: Any) -> None:
    """Writes a file that appears whole or not at all (fsynced, then linked into place),
    and never replaces one that appeared meanwhile."""
    fd, tmp = tempfile.mkstemp(prefix=".imageshelf-export-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            while chunk := stream.read(1024 * 1024):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, out)
        except FileExistsError:
            raise CommandError(f"{out} appeared while it was being written; left alone.") from None
        except OSError:  # a file system without hard links (FAT on a USB stick)
            if out.exists():
                raise CommandError(
                    f"{out} appeared while it was being written; left alone."
                ) from None
            os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
