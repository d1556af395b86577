"""``S3Storage``: a team library's bytes in an S3-compatible bucket.

Object keys never move. Folders are rows: an original is the object
``PREFIX/originals/<image id>`` from its upload to its purge, whatever folder or name
its row gives it, so moving a folder of 10,000 images copies no object
(``keys_follow_names = False`` tells the core's move and rename steps to change rows
only). Derived files are ``PREFIX/derived/<key>`` (``storage_s3_derived.py``).

Uploads are crash-safe in the order the database needs: the bytes are streamed into a
local temporary file (hashed, counted, refused past the limit, as in a folder library),
validated, then written to the store with a conditional create (``If-None-Match: *``;
HEAD then PUT where the server does not support it) BEFORE the row commits. So there is
never a row without its object; a kill between the PUT and the commit leaves an object
without a row, an orphan that ``storage_s3_collect.collect`` removes after a grace
period. A delete commits first and removes the object after, for the same reason.

Nothing outside the library writes to the bucket, so there is no watcher; the reconcile
job (``storage_s3_collect``) reports rows whose object is missing and collects orphans."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from . import files
from .derived import DerivedFiles
from .disk_scan import DiskFile
from .errors import StorageError
from .storage_s3_derived import S3Derived
from .storage_s3_io import ConditionalPut, is_missing, make_client, open_object

ORIGINALS: Final = "originals/"
DERIVED: Final = "derived/"


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    prefix: str = ""  # "" or ending in "/"
    path_style: bool = False


class S3Storage:
    """``Storage`` on an S3 bucket; uploads staged in ``tmp_dir`` on this machine."""

    keys_follow_names: Final = False

    def __init__(
        self, location: S3Location, tmp_dir: Path | None = None, client: Any = None
    ) -> None:
        self.location = location
        self.bucket = location.bucket
        self.prefix = location.prefix
        self.client = client if client is not None else make_client(path_style=location.path_style)
        if tmp_dir is None:
            # A private staging folder, removed with the storage (or at exit): uploads
            # being received and local copies for the transform workers.
            tmp_dir = Path(tempfile.mkdtemp(prefix="imageshelf-s3-"))
            weakref.finalize(self, shutil.rmtree, tmp_dir, ignore_errors=True)
        self.tmp_dir = tmp_dir
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.puts = ConditionalPut(self.client, self.bucket)
        self._derived = S3Derived(self.client, self.bucket, self.prefix + DERIVED, tmp_dir)

    def __repr__(self) -> str:
        return f"S3Storage(s3://{self.bucket}/{self.prefix})"

    # --- keys ------------------------------------------------------------------------------

    def key(self, image_id: str, relpath: str) -> str:
        """An original's key: its id, never its folder or name."""
        return ORIGINALS + image_id

    def object_key(self, key: str) -> str:
        return self.prefix + key

    def derived_files(self, meta: Path) -> DerivedFiles:
        return self._derived

    # --- what the crash-safe steps ask -----------------------------------------------------

    def receive(self, limit: int) -> files.Incoming:
        return files.Incoming(self.tmp_dir, limit)

    def open(self, key: str, offset: int = 0) -> BinaryIO:
        return open_object(self.client, self.bucket, self.prefix + key, offset)

    def place(
        self, tmp: Path, folder: str | None, names: Iterable[str], *, image_id: str = ""
    ) -> tuple[str, list[str]]:
        """Writes the received file as the image's object (never replacing one), then
        removes ``tmp``; the first of ``names`` is the row's (names are the rows' to
        keep free, not the store's)."""
        if not image_id:
            raise ValueError("S3Storage.place needs the image id (its key)")
        name = next(iter(names))
        key = self.prefix + self.key(image_id, "")
        with _store_errors("save the image"), open(tmp, "rb") as body:
            if not self.puts.put(key, body):
                raise FileExistsError(f"{key} already exists in the store")
        tmp.unlink(missing_ok=True)
        return name, []

    def put_new(self, key: str, data: bytes) -> bool:
        """Writes ``key`` unless it exists (tests and the migration tool)."""
        return self.puts.put(self.prefix + key, data)

    def link(self, key: str, new_key: str) -> bool:
        return key == new_key  # a key is the image's own: there is no second name

    def remove(self, key: str) -> None:
        with _store_errors("remove the image"):
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def move(self, key: str, new_key: str) -> None:
        if key != new_key:
            raise StorageError("Objects in a team library never move.")

    def stat(self, key: str) -> tuple[int, int]:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except Exception as exc:
            if is_missing(exc):
                raise FileNotFoundError(key) from None
            raise
        return int(head["ContentLength"]), int(head["LastModified"].timestamp() * 1e9)

    def make_folder(self, folder: str) -> list[str]:
        return []  # folders are rows

    def check_writable(self, folder: str | None) -> None:
        return None  # no links in a bucket

    def same_file(self, a: str, b: str) -> bool:
        return a == b

    def park(self, key: str, token: str) -> str | None:
        """The object stays until the row's change is committed (``discard_parked``): a
        kill between leaves an orphan, collected later, never a row without bytes."""
        return key if self.exists(key) else None

    def unpark(self, parked: str, key: str) -> None:
        return None

    def discard_parked(self, parked: str) -> None:
        self.remove(parked)

    def remove_folders(self, created: list[str]) -> None:
        return None

    def remove_empty_folders(self, folder: str) -> list[str]:
        return []

    def exists(self, key: str) -> bool:
        return self.puts.exists(self.prefix + key)

    def local_path(self, key: str) -> Path:
        """A local copy of ``key`` for code that reads files by name (the transform
        workers): downloaded once per object version into ``tmp_dir/objects``."""
        return self._derived.local_copy(self.prefix + key)

    def list_files(self, scope: list[str] | None = None) -> dict[str, DiskFile]:
        """Every original's object with size and mtime (keys, not names: for the
        reconcile job, not the folder reconciler)."""
        return {
            key: DiskFile(key, size, int(mtime * 1e9))
            for key, size, mtime in self.list_objects(ORIGINALS)
        }

    # --- listing (the collection job) ------------------------------------------------------

    def list_objects(self, under: str) -> Iterator[tuple[str, int, float]]:
        """``(key, size, last modified as epoch seconds)`` of every object under
        ``under`` (a key prefix without the storage's own prefix)."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + under):
            for item in page.get("Contents", ()):
                key = str(item["Key"])[len(self.prefix) :]
                yield key, int(item["Size"]), item["LastModified"].timestamp()


@contextlib.contextmanager
def _store_errors(doing: str) -> Iterator[None]:
    """A store that refuses or cannot be reached: a ``StorageError`` a person can read."""
    try:
        yield
    except (FileExistsError, FileNotFoundError):
        raise
    except OSError as exc:
        raise files.storage_error(exc, doing) from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("botocore", "boto3")):
            raise StorageError(f"Could not {doing}: the object store said {exc}.") from exc
        raise


# Text so a reader of a log sees where a key lives, without the credentials.
def describe(location: S3Location) -> str:
    return f"s3://{location.bucket}/{location.prefix}" + (
        " (path-style)" if location.path_style else ""
    )


__all__ = ["DERIVED", "ORIGINALS", "S3Location", "S3Storage", "describe"]
