"""What ``/i/{id}`` serves of an original (contract Part 2, "EXIF and location"): unless
the library's *Share location in links* is on, an original that carries GPS is served
without it (``location_strip``: pixels and every other metadata byte unchanged); the
stored file is never changed.

The location-free bytes are a derived file in the transform cache (keyed by the
original's hash like every transform result: removed with the original, bounded by the
same setting, rebuilt when evicted), so they are made once, not per request. Whether an
original has GPS at all is decided once per content hash in this process and
remembered, so an image without GPS costs the proxy nothing after its first request
(and the proxy remembers the answer per id on top of that)."""

from __future__ import annotations

import functools
import hashlib
import io
import tempfile
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Final, Protocol, cast

from sqlalchemy import Connection

from . import files, location_strip, rules, settings
from .errors import NotFound
from .records import ImageRecord
from .storage import Storage, opens_at_once
from .transforms import Transforms

# The cache file's name among the original's transform results (theirs are "WxH-fit…").
STRIPPED_NAME: Final = "location-removed"
# Bumped when ``location_strip`` changes what it writes: the ETag of the served bytes
# follows it, and old cache files are no longer looked at.
STRIP_VERSION: Final = 1
# Decisions remembered (content hash → has GPS); past this the memory starts again.
_MAX_REMEMBERED: Final = 200_000


class _Core(Protocol):
    """What of ``Core`` this needs (``Core`` is not imported: it holds a
    ``LocationPrivacy``, and the core's modules import in one direction only)."""

    storage: Storage
    transforms: Transforms
    write_lock: AbstractContextManager[bool]
    settings_version: int

    def get(self, image_id: str) -> ImageRecord: ...

    def key_of(self, record: ImageRecord) -> str: ...

    def read(self) -> AbstractContextManager[Connection]: ...

    def write(self) -> AbstractContextManager[Connection]: ...


@dataclass(frozen=True, slots=True)
class Served:
    """The bytes ``/i/{id}`` sends for an original: a way to open them and their ETag."""

    record: ImageRecord
    open: Callable[[], BinaryIO]
    etag: str  # strong, unquoted
    location_removed: bool
    # The same bytes opened without anything that may wait (a local file's open, no
    # rebuild: ``FileNotFoundError`` instead), for the server's socket loop; ``None``
    # where opening may wait (an object store): ``storage.opens_at_once``.
    open_at_once: Callable[[], BinaryIO] | None = None


def stripped_etag(sha256: str) -> str:
    """The ETag of an original's location-free bytes: a hash of the original's hash and
    of the stripping's version, the same in every process."""
    key = f"{sha256}/{STRIPPED_NAME}/{STRIP_VERSION}"
    return hashlib.sha256(key.encode()).hexdigest()


def _unnamed_file(data: bytes) -> BinaryIO:
    """``data`` in a temporary file already unlinked: a real file (the proxy sends it with
    the server's file wrapper and measures it with ``fstat``) that nothing keeps."""
    try:
        fp = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
        fp.write(data)
        fp.seek(0)
    except OSError:  # no room for it either: from memory
        return io.BytesIO(data)
    return cast(BinaryIO, fp)


class LocationPrivacy:
    def __init__(self, core: _Core) -> None:
        self.core = core
        self._has_location: dict[str, bool] = {}
        self._lock = threading.Lock()
        self.builds = 0  # location-free files made since start (tests, benchmarks)

    def served(self, image_id: str, *, settled: bool = False) -> Served:
        """What ``/i/{image_id}`` sends. Raises ``NotFound``/``Gone`` as ``Core.get``.
        A file found missing while deciding is looked for once more after any move in
        flight (moves hold the write lock to their commit), as ``originals`` does."""
        record = self.core.get(image_id)
        original = functools.partial(self.core.storage.open, self.core.key_of(record))
        at_once = original if opens_at_once(self.core.storage) else None
        plain = Served(record, original, record.etag, False, at_once)
        if record.content_type not in location_strip.STRIPPABLE_TYPES:
            return plain
        if settings.share_location_in_links(self.core):
            return plain
        # Not the EXIF columns' has_location: that says whether a usable position was
        # read, not whether any GPS data is there (a latitude alone, a damaged GPS
        # directory, GPS in a HEIC's XMP all read as no location). This check finds every
        # GPS directory and property, once per content hash in this process.
        if self._has_location.get(record.sha256) is False:
            return plain
        extension = rules.FORMAT_BY_CONTENT_TYPE[record.content_type].extension
        name = f"{STRIPPED_NAME}-v{STRIP_VERSION}{extension}"
        key = self.core.transforms.cache.key_for(record.sha256, name)
        if self.core.transforms.cache.store.exists(key):
            self._remember(record.sha256, True)
            return self._stripped(record, key, name)
        try:
            stripped = self._strip(record)
        except FileNotFoundError:
            if settled:
                raise NotFound(
                    f"The file of image {image_id} is missing from the library folder."
                ) from None
            with self.core.write_lock:
                return self.served(image_id, settled=True)
        if stripped is None:
            self._remember(record.sha256, False)
            return plain
        self._remember(record.sha256, True)
        self.builds += 1
        if not self._keep(record, name, stripped):
            # A full or read-only disk: sent all the same, from memory, without keeping it.
            in_memory = functools.partial(io.BytesIO, stripped)
            return Served(record, in_memory, self._etag(record), True, in_memory)
        return self._stripped(record, key, name)

    def _keep(self, record: ImageRecord, name: str, data: bytes) -> bool:
        try:
            self.core.transforms.cache.put(record.sha256, name, data)
        except OSError:
            return False
        return True

    @staticmethod
    def _etag(record: ImageRecord) -> str:
        return stripped_etag(record.sha256)

    def _stripped(self, record: ImageRecord, key: str, name: str) -> Served:
        cache = self.core.transforms.cache

        def opener() -> BinaryIO:
            try:
                fp = cache.store.open(key)
            except FileNotFoundError:
                # Evicted (or the cache was cleared, or its limit is 0): made again, and
                # sent from memory when the cache does not keep it.
                data = self._strip(record)
                if data is None:
                    raise NotFound("The image's file is missing from the library.") from None
                if self._keep(record, name, data):
                    try:
                        return cache.store.open(key)
                    except FileNotFoundError:
                        pass  # the cache keeps nothing (its limit is 0)
                return _unnamed_file(data)
            cache.touch(key)
            return fp

        def at_once() -> BinaryIO:
            fp = cache.store.open(key)  # evicted: FileNotFoundError, the opener remakes it
            cache.touch(key, wait=False)
            return fp

        local = opens_at_once(cache.store)
        return Served(record, opener, self._etag(record), True, at_once if local else None)

    def _strip(self, record: ImageRecord) -> bytes | None:
        """The original's bytes without GPS, ``None`` when it has none. Reads the whole
        original (at most the upload limit for anything the library took in)."""
        try:
            with self.core.storage.open(self.core.key_of(record)) as fp:
                data = fp.read()
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise files.storage_error(exc, f"read the file of image {record.id}") from exc
        from . import imaging  # Pillow, imported on first use: see imaging.py

        return location_strip.strip_location(data, record.content_type, imaging.embedded_metadata)

    def _remember(self, sha256: str, has_location: bool) -> None:
        with self._lock:
            if len(self._has_location) >= _MAX_REMEMBERED:
                self._has_location.clear()
            self._has_location[sha256] = has_location
