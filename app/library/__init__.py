"""The Imageshelf core: the image library as a folder of files plus a SQLite database.

It imports neither Qt nor Flask; the GUI and the server are both thin faces over
``Library``.

``Library`` is imported on first use (PEP 562): importing one module of this package
(``decode_workers``, as the import and adoption worker processes' fork server does on
start) then costs ≈ 0.1 s instead of ≈ 0.5 s of CPU for the database layer it never
uses, and a dropped card's worth of photos starts decoding that much sooner."""

from typing import TYPE_CHECKING, Any

from .errors import (
    Busy,
    ClientGone,
    Duplicate,
    Gone,
    InvalidAltText,
    InvalidFolder,
    InvalidInput,
    InvalidTransform,
    KeyExists,
    LibraryError,
    LibraryLocked,
    MalformedImage,
    NotFound,
    NotInTrash,
    NotReady,
    OutsideKeyFolders,
    StorageError,
    TooLarge,
    TooManyFrames,
    TooManyPixels,
    UnsupportedFormat,
    UpstreamError,
    UpstreamTimeout,
)
from .events import Event, EventKind
from .exif_facts import ExifFacts
from .files import Incoming
from .filters import ALL_FOLDERS, Filter, FolderScope, Sort
from .records import FolderInfo, ImageRecord, Page, rfc3339
from .storage import FolderStorage, Storage
from .storage_url import storage_from_url

if TYPE_CHECKING:
    from .library import Library

__all__ = [
    "ALL_FOLDERS",
    "Busy",
    "ClientGone",
    "Duplicate",
    "Event",
    "EventKind",
    "ExifFacts",
    "Filter",
    "FolderInfo",
    "FolderScope",
    "FolderStorage",
    "Gone",
    "ImageRecord",
    "Incoming",
    "InvalidAltText",
    "InvalidFolder",
    "InvalidInput",
    "InvalidTransform",
    "KeyExists",
    "Library",
    "LibraryError",
    "LibraryLocked",
    "MalformedImage",
    "NotFound",
    "NotInTrash",
    "NotReady",
    "OutsideKeyFolders",
    "Page",
    "Sort",
    "Storage",
    "StorageError",
    "TooLarge",
    "TooManyFrames",
    "TooManyPixels",
    "UnsupportedFormat",
    "UpstreamError",
    "UpstreamTimeout",
    "rfc3339",
    "storage_from_url",
]


def __getattr__(name: str) -> Any:
    if name == "Library":
        from .library import Library

        return Library
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
