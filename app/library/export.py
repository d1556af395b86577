"""Copies of images leaving the library: into a zip file or a folder, optionally with an
``alt-text.csv``. The window's *Export…* and ``imageshelf export`` both come here.

Crash-safe and all-or-nothing: a zip is written under a temporary name beside the
destination, fsynced, then renamed into place; a folder is written into a temporary
folder beside it and renamed as a whole (into an existing, non-empty folder: staged in a
hidden folder inside it, then each file linked into place, never over another file). A
cancelled or failed export removes what it wrote; a kill leaves at most a hidden
``.imageshelf-export-*`` beside the destination, never a half-written file under a real
name. Entries are named ``folder/filename`` (``entry_name``); names that would clash on
a case-insensitive disk get ``-2``, ``-3``... A destination inside the library is refused:
the library would take the copies for new images."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, BinaryIO, Final, Protocol

from .downloads_names import name_in_archive as entry_name
from .downloads_names import unique_entry_names
from .errors import Cancelled, Gone, InvalidInput, MetadataNotWritable, NotFound, StorageError
from .export_out import FolderOut, ZipOut, disk_error, same_file
from .filters import ALL_FOLDERS, Filter, Sort
from .library import Library
from .records import ImageRecord
from .rules import normalize_folder
from .sql import listing

CSV_NAME: Final = "alt-text.csv"
# Every column the CSV can have and what each holds (written in the order asked for).
CSV_COLUMNS: Final = {
    "path": "where the image is in the export: folder/filename",
    "id": "the image's id in the library (img_…)",
    "alt_text": "its alt text (empty when decorative or missing: see alt_status)",
    "alt_status": "described, decorative (alt text deliberately empty) or missing",
    "long_description": "its long description",
    "original_filename": "the name it had when it was added",
    "folder": "its folder in the library (empty for the top level)",
    "width": "width in pixels",
    "height": "height in pixels",
}
DEFAULT_CSV_COLUMNS: Final = ("path", "alt_text", "long_description")
CHUNK: Final = 1024 * 1024
SPACE_MARGIN: Final = 16 * 1024 * 1024  # zip headers, the CSV, the file system's own


class Kind(StrEnum):
    ZIP = "zip"
    FOLDER = "folder"


@dataclass(frozen=True, slots=True)
class Item:
    """One image to export, as the library or its HTTP API describes it."""

    id: str
    folder: str | None
    filename: str
    size: int
    content_type: str
    alt_text: str | None = None
    long_description: str | None = None
    original_filename: str = ""
    width: int = 0
    height: int = 0

    @classmethod
    def from_record(cls, r: ImageRecord) -> Item:
        return cls(r.id, r.folder, r.filename, r.size, r.content_type, r.alt_text,
                   r.long_description, r.original_filename, r.width, r.height)  # fmt: skip

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> Item:
        return cls(d["id"], d.get("folder"), d["filename"], int(d["size"]), d["content_type"],
                   d.get("alt_text"), d.get("long_description"),
                   d.get("original_filename") or "", int(d.get("width") or 0),
                   int(d.get("height") or 0))  # fmt: skip


class Source(Protocol):
    def open(self, item: Item) -> contextlib.AbstractContextManager[tuple[BinaryIO, str | None]]:
        """The original's bytes and their sha256 when known; ``NotFound``/``Gone`` when
        the image left the library."""


@dataclass(slots=True)
class Report:
    destination: Path
    written: list[str] = field(default_factory=list)  # entry names
    already: list[str] = field(default_factory=list)  # into a folder: the same file was there
    kept: list[str] = field(default_factory=list)  # into a folder: another file there, untouched
    missing: list[str] = field(default_factory=list)  # ids that left the library meanwhile
    not_embedded: list[str] = field(default_factory=list)  # formats that cannot carry alt text
    csv: bool = False


class LibrarySource:
    """The originals of a library opened here."""

    def __init__(self, library: Library) -> None:
        self.library = library

    @contextlib.contextmanager
    def open(self, item: Item) -> Iterator[tuple[BinaryIO, str | None]]:
        record, stream = self.library.open_original(item.id)
        with stream:
            yield stream, record.sha256


def plan(
    library: Library,
    *,
    ids: Sequence[str] | None = None,
    folder: object = ALL_FOLDERS,
    recursive: bool = False,
) -> list[Item]:
    """What an export of these ids (in their order; those gone are left out), or else of
    this folder (by name), holds."""
    if ids is not None:
        items = []
        for image_id in ids:
            with contextlib.suppress(NotFound, Gone):
                items.append(Item.from_record(library.get(image_id)))
        return items
    flt = Filter(folder=ALL_FOLDERS if folder is ALL_FOLDERS else normalize_folder(folder),
                 recursive=recursive)  # fmt: skip
    # One read, one snapshot: pages read one after another could miss or repeat images
    # that move meanwhile, and each later page costs more (its offset).
    with library.core.read() as conn:
        flt = listing.resolve(conn, flt)
        total = listing.count(conn, flt)
        records = listing.page(conn, flt, 0, total, Sort.NAME, total=total) if total else []
    return [Item.from_record(r) for r in records]


# (images done, images in all, bytes done, bytes in all)
Progress = Callable[[int, int, int, int], None]


def entry_names(items: Sequence[Item], reserved: Sequence[str] = (CSV_NAME,)) -> list[str]:
    """One name per item by the download jobs' rule (``downloads_names.py``: an archive
    made by the API and one made by the window name files alike), ``reserved`` names
    (the CSV) kept free."""
    names = [*reserved, *(entry_name(i.folder, i.filename) for i in items)]
    return unique_entry_names(names)[len(reserved) :]


def csv_bytes(rows: Sequence[tuple[str, Item]], columns: Sequence[str]) -> bytes:
    """UTF-8, RFC 4180 (CRLF, quoted where needed), a header row of the column names."""
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown or not columns:
        raise InvalidInput(
            f"CSV columns are some of {', '.join(CSV_COLUMNS)}; not {', '.join(unknown)}."
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = list(dict.fromkeys(columns))  # in the order asked for, each once
    writer.writerow(columns)
    for name, item in rows:
        status = "missing" if item.alt_text is None else "decorative" if not item.alt_text else ""
        values = {
            "path": name,
            "id": item.id,
            "alt_text": item.alt_text or "",
            "alt_status": status or "described",
            "long_description": item.long_description or "",
            "original_filename": item.original_filename,
            "folder": item.folder or "",
            "width": str(item.width),
            "height": str(item.height),
        }
        writer.writerow([values[c] for c in columns])
    return out.getvalue().encode("utf-8")


def _real(path: Path) -> Path:
    """``path`` with every link resolved, also where its last parts do not exist yet."""
    path = Path(os.path.abspath(path.expanduser()))
    tail: list[str] = []
    while not path.exists() and path != path.parent:
        tail.insert(0, path.name)
        path = path.parent
    return path.resolve().joinpath(*tail)


def check_destination(dest: Path, kind: Kind, library_root: Path | None) -> Path:
    """The destination made absolute; ``InvalidInput`` when it cannot be written."""
    real = _real(dest)
    if library_root is not None:
        root = library_root.resolve()
        if real == root or root in real.parents:
            raise InvalidInput(
                f"{dest} is inside the library ({root}); the library would take the "
                "copies for new images. Choose a place outside it."
            )
    if not real.parent.is_dir():
        raise InvalidInput(f"The folder {real.parent} does not exist.")
    if kind is Kind.ZIP and real.is_dir():
        raise InvalidInput(f"{dest} is a folder; give the zip file's name.")
    if kind is Kind.FOLDER and real.exists() and not real.is_dir():
        raise InvalidInput(f"{dest} is a file, not a folder.")
    return real


class _Counter:
    def __init__(self, total: int, total_bytes: int, report: Progress | None) -> None:
        self.done, self.total, self.bytes, self.total_bytes = 0, total, 0, total_bytes
        self.report = report

    def tell(self) -> None:
        if self.report is not None:
            self.report(self.done, self.total, self.bytes, self.total_bytes)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("The export was cancelled; nothing was left behind.")


def _pump(
    src: BinaryIO, out: IO[bytes] | None, cancel: threading.Event | None, count: _Counter
) -> str:
    """Copies (or, without ``out``, only reads) ``src``; its sha256."""
    digest = hashlib.sha256()
    while chunk := src.read(CHUNK):
        _check(cancel)
        digest.update(chunk)
        if out is not None:
            out.write(chunk)
        count.bytes += len(chunk)
        count.tell()
    return digest.hexdigest()


def export(
    items: Sequence[Item],
    source: Source,
    dest: Path,
    kind: Kind,
    *,
    library_root: Path | None,
    csv_columns: Sequence[str] = (),
    embed_alt_text: bool = False,
    replace: bool = False,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Report:
    """Writes ``items`` to ``dest``. ``replace``: a zip file already there is replaced
    (the window asked); else it is refused. Raises ``Cancelled`` when ``cancel`` is set,
    ``InvalidInput`` for a destination that cannot be, ``StorageError`` for a disk that
    refused; in every case nothing of the export is left."""
    if csv_columns:
        csv_bytes([], csv_columns)  # unknown columns refused before anything is written
    dest = check_destination(dest, kind, library_root)
    if kind is Kind.ZIP and dest.exists() and not replace:
        raise InvalidInput(f"{dest} already exists.")
    total_bytes = sum(i.size for i in items)
    try:
        free = shutil.disk_usage(dest.parent).free
    except OSError:
        free = None
    if free is not None and free < total_bytes + SPACE_MARGIN:
        mib = 1024 * 1024
        raise StorageError(
            f"Not enough space for the export: it needs {total_bytes // mib + 1:,} MB, "
            f"{dest.parent} has {free // mib:,} MB free."
        )
    report = Report(dest)
    names = entry_names(items)
    count = _Counter(len(items), total_bytes, progress)
    count.tell()
    try:
        out: ZipOut | FolderOut = ZipOut(dest, replace) if kind is Kind.ZIP else FolderOut(dest)
    except OSError as exc:
        raise disk_error(exc, dest) from None
    exported: list[tuple[str, Item]] = []
    try:
        for name, item in zip(names, items, strict=True):
            _check(cancel)
            try:
                if _one(out, source, name, item, embed_alt_text, report, cancel, count):
                    exported.append((name, item))
            except (NotFound, Gone):
                report.missing.append(item.id)
            count.done += 1
            count.tell()
        if csv_columns:
            _add_csv(out, csv_bytes(exported, csv_columns), report)
        _check(cancel)
        out.finish()
    except BaseException as exc:
        out.abort()
        if isinstance(exc, OSError):
            raise disk_error(exc, dest) from None
        raise
    if isinstance(out, FolderOut):
        report.kept.extend(out.clashes)
        report.written = [n for n in report.written if n not in set(out.clashes)]
    return report


def _one(
    out: ZipOut | FolderOut,
    source: Source,
    name: str,
    item: Item,
    embed: bool,
    report: Report,
    cancel: threading.Event | None,
    count: _Counter,
) -> bool:
    """Writes one image; whether it is in the export (written, or there already)."""
    with source.open(item) as (stream, sha256):
        data: bytes | None = None
        if embed:
            original = stream.read()
            try:
                data = _embedded(original, item)
            except MetadataNotWritable:
                report.not_embedded.append(name)
                data = original
            stream = io.BytesIO(data)
            if sha256 is not None and hashlib.sha256(original).hexdigest() != sha256:
                raise StorageError(f"{name} changed while it was being exported; export again.")
        there = out.existing(name)
        if there is not None:
            digest = _pump(stream, None, cancel, count)
            if same_file(there, data, digest):
                report.already.append(name)
                return True
            report.kept.append(name)
            return False
        with out.entry(name, item.size if data is None else len(data)) as sink:
            digest = _pump(stream, sink, cancel, count)
    if data is None and sha256 is not None and digest != sha256:
        raise StorageError(f"{name} changed while it was being exported; export again.")
    report.written.append(name)
    return True


def _embedded(original: bytes, item: Item) -> bytes:
    from .xmp_write import embed_alt_text  # the XMP code only when asked for

    try:
        return embed_alt_text(original, item.alt_text, item.long_description, item.content_type)
    except MetadataNotWritable:
        raise
    except ValueError as exc:  # a container the writer cannot follow: copied as is
        raise MetadataNotWritable(str(exc)) from None


def _add_csv(out: ZipOut | FolderOut, data: bytes, report: Report) -> None:
    there = out.existing(CSV_NAME)
    if there is not None and not same_file(there, data, ""):
        report.kept.append(CSV_NAME)
        return
    if there is None:
        out.add_bytes(CSV_NAME, data)
    report.csv = True
