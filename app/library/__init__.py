"""The Imageshelf core: the image library as a folder of files plus a SQLite database.

It imports neither Qt nor Flask; the GUI and the server are both thin faces over
``Library``."""

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
from .library import Library
from .records import FolderInfo, ImageRecord, Page, rfc3339
from .storage import FolderStorage, Storage
from .storage_url import storage_from_url

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
